"""Nothing is lost while a job type is paused (issue 14): under a real `scale up`, jobs queued
through the API and jobs that an INGEST rule creates for files landing during the pause wait
QUEUED, saying why, and each runs exactly once after the type is resumed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.scale_up import free_port, request, responding

pytestmark = pytest.mark.integration

DATA_TYPE = "note"


def consume_type(workspace: str) -> dict:
    return {"name": "consume", "version": "1.0", "cpus_required": 0.1, "mem_required": 16.0,
            "disk_out_const_required": 0.0,
            "interface": {"version": "1.0", "command": "/bin/cat", "command_arguments": "${text}",
                          "input_data": [{"name": "text", "type": "file", "media_types": ["text/plain"]}],
                          "output_data": []},
            "trigger_rule": {"type": "INGEST", "configuration": {
                "version": "1.0", "condition": {"media_type": "text/plain", "data_types": [DATA_TYPE]},
                "data": {"input_data_name": "text", "workspace_name": workspace}}}}


def test_jobs_queued_and_triggered_while_paused_each_run_once_after_resume(tmp_path: Path):
    home, port, incoming = tmp_path / "home", free_port(), tmp_path / "incoming"
    incoming.mkdir()
    api = f"http://127.0.0.1:{port}/api"
    log_path = tmp_path / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--home", str(home), "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: responding(f"{api}/errors/"), what="the API to answer", timeout=180)
        token = (home / "admin-token").read_text().strip()

        def call(method: str, path: str, body: dict | None = None) -> dict:
            status, answer = request(method, f"{api}{path}", body, token)
            assert status in (200, 201), (method, path, status, answer)
            return answer

        call("POST", "/workspaces/", {"name": "raw", "json_config": {
            "version": "1.0", "broker": {"type": "host", "host_path": str(tmp_path / "raw")}}})
        job_type = call("POST", "/job-types/", consume_type("raw"))
        call("PATCH", f"/job-types/{job_type['id']}/", {"is_paused": True})
        strike = call("POST", "/strike/create/", {"name": "notes", "configuration": {
            "version": "1.0", "mount": str(incoming), "transfer_suffix": "_tmp",
            "files_to_ingest": [{"filename_regex": ".*[.]txt$", "data_types": [DATA_TYPE],
                                 "workspace_path": "notes", "workspace_name": "raw"}]}})
        wait_until(lambda: call("GET", f"/strikes/{strike['strike_id']}/")["job"]["status"] == "RUNNING",
                   what="the Strike to run", timeout=60)

        for n in range(3):  # land while the type is paused
            (incoming / f"note{n}.txt_tmp").write_text(f"note {n}\n")
            (incoming / f"note{n}.txt_tmp").rename(incoming / f"note{n}.txt")

        def jobs() -> list[dict]:
            return call("GET", f"/jobs/?job_type_id={job_type['id']}&page_size=100")["results"]
        wait_until(lambda: len(jobs()) == 3, what="the INGEST rule's 3 jobs", timeout=60)
        sources = call("GET", "/sources/?page_size=100")["results"]
        assert len(sources) == 3
        for source in sources[:2]:  # and two more queued through the API, on the same files
            call("POST", "/queue/new-job/", {"job_type_id": job_type["id"], "job_data": {
                "version": "1.0", "input_data": [{"name": "text", "file_id": source["id"]}], "output_data": []}})
        waiting = jobs()
        assert len(waiting) == 5 and {job["status"] for job in waiting} == {"QUEUED"}
        details = call("GET", f"/jobs/{waiting[0]['id']}/")
        assert details["queued_reason_code"] == "JOB_TYPE_PAUSED"

        call("PATCH", f"/job-types/{job_type['id']}/", {"is_paused": False})
        wait_until(lambda: {job["status"] for job in jobs()} == {"COMPLETED"},
                   what="every job to complete after the resume", timeout=90)
        done = jobs()
        assert len(done) == 5 and [job["num_exes"] for job in done] == [1] * 5
        events = call("GET", "/trigger-events/?page_size=100")["results"]
        assert sorted(event["source_file"]["id"] for event in events if event.get("source_file")) == sorted(
            source["id"] for source in sources)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, log_path.read_text()[-3000:]
