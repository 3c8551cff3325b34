"""Issue 4's end-to-end scenario on the production stack (PostgreSQL, Redis, web + scheduler +
worker processes, jobs in Docker containers).

Files copied into a directory that a Strike watches become source files; an ingest trigger on a
recipe type makes one two-job recipe per file: `tag` writes a results manifest with parse
results for its input (the source file) and a product, `shout` upper-cases that product. The
final products land in the output workspace with provenance back to their source file."""

from __future__ import annotations

import io
import os
import tarfile
import urllib.request
from pathlib import Path

import docker
import pytest

from tests.docker_images import build_busybox_image
from tests.helpers import wait_until
from tests.scale_up import request

pytestmark = pytest.mark.integration

IMAGE = "scale-test/ingest-flow:1"
TAG = """#!/bin/sh
name=$(basename "$1")
{ printf 'from %s: ' "$name"; cat "$1"; } > "$2/tagged.txt"
printf '{"version": "1.1", "output_data": [{"name": "tagged", "file": {"path": "%s"}}],
 "parse_results": [{"filename": "%s", "data_types": ["greeting"],
   "geo_metadata": {"data_started": "2026-11-28T01:00:00Z", "data_ended": "2026-11-28T01:05:00Z"}}]}' \\
  "$2/tagged.txt" "$name" > "$2/results_manifest.json"
"""
SHOUT = """#!/bin/sh
tr a-z A-Z < "$1" > "$2/shout.txt"
echo "ARTIFACT:shout:$2/shout.txt"
"""
FILES = {"hello.txt": b"hello, world\n", "bye.txt": b"goodbye, moon\n"}


def build_image(client: docker.DockerClient) -> None:
    base = build_busybox_image(client)
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, body in (("Dockerfile", f"FROM {base}\nCOPY tag shout /bin/\n"), ("tag", TAG), ("shout", SHOUT)):
            data = body.encode()
            entry = tarfile.TarInfo(name)
            entry.size, entry.mode = len(data), 0o755
            tar.addfile(entry, io.BytesIO(data))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=IMAGE, rm=True)


def test_files_landing_in_a_strike_directory_become_products_with_provenance(stack, tmp_path: Path):
    build_image(docker.from_env())
    base, token = stack

    def post(path: str, body: dict, expected: int = 201) -> dict:
        status, reply = request("POST", f"{base}{path}", body, token)
        assert status == expected, (path, reply)
        return reply

    def get(path: str) -> dict:
        status, reply = request("GET", f"{base}{path}")
        assert status == 200, (path, reply)
        return reply

    for name in ("raw", "products"):
        post("/workspaces/", {"name": name, "json_config": {
            "version": "1.0", "broker": {"type": "host", "host_path": str(tmp_path / name)}}})
    common = {"version": "1.0", "docker_image": IMAGE, "timeout": 120, "max_tries": 1}
    post("/job-types/", {**common, "name": "tag", "interface": {
        "version": "1.0", "command": "/bin/tag", "command_arguments": "${source} ${job_output_dir}",
        "input_data": [{"name": "source", "type": "file", "media_types": ["text/plain"]}],
        "output_data": [{"name": "tagged", "type": "file", "media_type": "text/plain"}]}})
    post("/job-types/", {**common, "name": "shout", "interface": {
        "version": "1.0", "command": "/bin/shout", "command_arguments": "${text} ${job_output_dir}",
        "input_data": [{"name": "text", "type": "file", "media_types": ["text/plain"]}],
        "output_data": [{"name": "shout", "type": "file", "media_type": "text/plain"}]}})
    post("/recipe-types/", {
        "name": "tag-and-shout", "version": "1.0",
        "definition": {
            "version": "1.0",
            "input_data": [{"name": "source", "type": "file", "media_types": ["text/plain"]}],
            "jobs": [
                {"name": "tag", "job_type": {"name": "tag", "version": "1.0"},
                 "recipe_inputs": [{"recipe_input": "source", "job_input": "source"}]},
                {"name": "shout", "job_type": {"name": "shout", "version": "1.0"},
                 "dependencies": [{"name": "tag", "connections": [{"output": "tagged", "input": "text"}]}]},
            ]},
        "trigger_rule": {"type": "INGEST", "name": "raw-text", "configuration": {
            "version": "1.0", "condition": {"media_type": "text/plain", "data_types": ["raw-text"]},
            "data": {"input_data_name": "source", "workspace_name": "products"}}}})

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "already-here.dat").write_bytes(b"no rule matches this one\n")
    strike = post("/strike/create/", {"name": "landing", "configuration": {
        "version": "1.0", "mount": str(incoming), "transfer_suffix": "_tmp",
        "files_to_ingest": [{"filename_regex": r".*\.txt$", "data_types": ["raw-text"],
                             "workspace_path": "landing", "workspace_name": "raw"}]}}, expected=200)
    wait_until(lambda: get(f"/strikes/{strike['strike_id']}/")["job"]["status"] == "RUNNING",
               what="the Strike's job to run", timeout=60)

    for name, body in FILES.items():
        partial = incoming / f"{name}_tmp"
        partial.write_bytes(body)
        os.rename(partial, incoming / name)

    def download(url: str):
        return urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": f"Token {token}"}),
                                      timeout=10)

    def all_recipes_completed() -> list[dict] | None:
        recipes = get("/recipes/")["results"]
        details = [get(f"/recipes/{recipe['id']}/") for recipe in recipes]
        stuck = [job for d in details for job in d["jobs"] if job["job"]["status"] in ("FAILED", "BLOCKED")]
        assert not stuck, stuck
        return details if len(details) == len(FILES) and all(d["completed"] for d in details) else None

    wait_until(all_recipes_completed, what="one completed recipe per ingested file", timeout=180)

    ingests = get("/ingests/?order=file_name")["results"]
    assert {(i["file_name"], i["status"]) for i in ingests} == {
        ("already-here.dat", "DEFERRED"), ("bye.txt", "INGESTED"), ("hello.txt", "INGESTED")}
    assert (incoming / "already-here.dat").exists()  # deferred files stay where they are
    assert not (incoming / "hello.txt").exists()  # ingested files have moved into the workspace

    sources = {s["file_name"]: s for s in get("/sources/")["results"]}
    assert set(sources) == set(FILES)
    for name, body in FILES.items():
        source = sources[name]
        # The first job's results manifest parsed its input: data time is recorded, and its data
        # types join the ones the file was ingested with.
        assert source["is_parsed"] is True
        assert source["data_type"] == ["raw-text", "greeting"]
        assert source["data_started"] == "2026-11-28T01:00:00.000Z"
        stored = tmp_path / "raw" / "landing"
        assert [p.read_bytes() for p in stored.rglob(name)] == [body]
        with download(source["url"]) as resp:  # the workspace is private: the token is needed
            assert resp.read() == body

        details = get(f"/sources/{source['id']}/")
        assert {job["job_type"]["name"] for job in details["jobs"]} == {"tag", "shout"}
        finals = [p for p in details["products"] if p["job_type"]["name"] == "shout"]
        assert len(finals) == 1
        with download(finals[0]["url"]) as resp:
            assert resp.read() == f"FROM {name.upper()}: ".encode() + body.upper()
        assert finals[0]["workspace"]["name"] == "products"

    updates = get("/products/updates/?job_type_name=shout")["results"]
    assert len(updates) == len(FILES)
    for product in updates:
        assert [s["file_name"] for s in product["source_files"]] in ([name] for name in FILES)

    events = get("/trigger-events/?type=INGEST")["results"]
    assert len(events) == len(FILES)
    for event in events:
        made = get(f"/trigger-events/{event['id']}/")
        assert len(made["recipes"]) == 1
