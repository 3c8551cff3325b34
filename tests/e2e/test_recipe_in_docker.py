"""Issue 3's end-to-end scenario on the production stack: PostgreSQL, Redis, the real web,
scheduler and worker processes, and jobs in Docker containers.

A two-job recipe: `make-greeting` writes a file, `shout` upper-cases it; the final product's
bytes come back through the API."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.request
from pathlib import Path

import docker
import pytest

from tests.docker_images import build_busybox_image
from tests.helpers import wait_until
from tests.scale_up import request

pytestmark = pytest.mark.integration

IMAGE = "scale-test/greetings:1"
MAKE_GREETING = """#!/bin/sh
echo "hello, $1" > "$2/greeting.txt"
echo "ARTIFACT:greeting:$2/greeting.txt"
"""
SHOUT = """#!/bin/sh
tr a-z A-Z < "$1" > "$2/shout.txt"
printf '{"version": "1.1", "output_data": [{"name": "shout", "file": {"path": "%s"}}]}' \\
  "$2/shout.txt" > "$2/results_manifest.json"
"""


def build_greetings_image(client: docker.DockerClient) -> str:
    """The busybox test image plus the two algorithms, built locally (no registry)."""
    base = build_busybox_image(client)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, text in (("Dockerfile", f"FROM {base}\nCOPY make-greeting shout /bin/\n"),
                           ("make-greeting", MAKE_GREETING), ("shout", SHOUT)):
            data = text.encode()
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), 0o755
            tar.addfile(entry, io.BytesIO(data))
    context.seek(0)
    image, _logs = client.images.build(fileobj=context, custom_context=True, tag=IMAGE, rm=True)
    return image.id


def test_two_job_recipe_in_containers_returns_the_final_product(stack, tmp_path: Path):
    build_greetings_image(docker.from_env())
    base, token = stack

    def post(path: str, body: dict) -> dict:
        status, reply = request("POST", f"{base}{path}", body, token)
        assert status == 201, (path, reply)
        return reply

    workspace = post("/workspaces/", {"name": "products", "json_config": {
        "version": "1.0", "broker": {"type": "host", "host_path": str(tmp_path / "products")}}})
    common = {"version": "1.0", "docker_image": IMAGE, "timeout": 120, "max_tries": 1}
    post("/job-types/", {**common, "name": "make-greeting", "interface": {
        "version": "1.0", "command": "/bin/make-greeting",
        "command_arguments": "${message} ${job_output_dir}",
        "input_data": [{"name": "message", "type": "property"}],
        "output_data": [{"name": "greeting", "type": "file", "media_type": "text/plain"}]}})
    post("/job-types/", {**common, "name": "shout", "interface": {
        "version": "1.0", "command": "/bin/shout", "command_arguments": "${text} ${job_output_dir}",
        "input_data": [{"name": "text", "type": "file", "media_types": ["text/plain"]}],
        "output_data": [{"name": "shout", "type": "file", "media_type": "text/plain"}]}})
    recipe_type = post("/recipe-types/", {"name": "greet-loudly", "version": "1.0", "definition": {
        "version": "1.0", "input_data": [{"name": "message", "type": "property"}],
        "jobs": [
            {"name": "make", "job_type": {"name": "make-greeting", "version": "1.0"},
             "recipe_inputs": [{"recipe_input": "message", "job_input": "message"}]},
            {"name": "shout", "job_type": {"name": "shout", "version": "1.0"},
             "dependencies": [{"name": "make", "connections": [{"output": "greeting", "input": "text"}]}]},
        ]}})
    recipe = post("/queue/new-recipe/", {"recipe_type_id": recipe_type["id"], "recipe_data": {
        "version": "1.0", "input_data": [{"name": "message", "value": "world"}],
        "workspace_id": workspace["id"]}})

    def completed() -> dict | None:
        _, details = request("GET", f"{base}/recipes/{recipe['id']}/")
        failed = [j for j in details["jobs"] if j["job"]["status"] in ("FAILED", "BLOCKED", "CANCELED")]
        assert not failed, json.dumps(details["jobs"], indent=1)
        return details if details["completed"] else None

    wait_until(completed, what="the recipe to complete", timeout=120)
    _, products = request("GET", f"{base}/products/?job_type_name=shout")
    assert products["count"] == 1
    product = products["results"][0]
    # The workspace is not public: the download needs the token.
    download = urllib.request.Request(f"{base}/products/{product['id']}/download/",
                                      headers={"Authorization": f"Token {token}"})
    with urllib.request.urlopen(download, timeout=10) as resp:
        assert resp.read() == b"HELLO, WORLD\n"
