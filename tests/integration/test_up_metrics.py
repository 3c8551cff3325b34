"""`scale up` as a newcomer runs it: a job runs, its life cycle and the HTTP requests show in the
output tagged with their processes, the clock fires its rules, a day's metrics can be
recomputed and plotted, and Prometheus can scrape `/metrics`."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.scale_up import free_port, request, responding

pytestmark = pytest.mark.integration

HELLO = {"name": "hello", "version": "1.0", "cpus_required": 0.1, "mem_required": 16.0,
         "disk_out_const_required": 0.0,
         "interface": {"version": "1.0", "command": "/bin/true", "command_arguments": "", "input_data": [],
                       "output_data": []}}


def test_a_newcomer_sees_the_job_life_cycle_metrics_and_prometheus(tmp_path: Path):
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", "cli.main", "up", "--home", str(home), "--port", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: responding(f"{base}/api/errors/"), what="the API to answer", timeout=180)
        token = (home / "admin-token").read_text().strip()
        status, job_type = request("POST", f"{base}/api/job-types/", HELLO, token)
        assert status == 201, job_type
        status, job = request("POST", f"{base}/api/queue/new-job/", {
            "job_type_id": job_type["id"], "job_data": {"version": "1.0", "input_data": [], "output_data": []}},
            token)
        assert status == 201, job
        completed = f"scale.jobs INFO job {job['id']} (type {job_type['id']}) exe "
        wait_until(lambda: any(completed in line and line.endswith("COMPLETED") and "[scheduler]" in line
                               for line in log_path.read_text().splitlines()),
                   what="the job's COMPLETED line", timeout=90)
        text = log_path.read_text()
        assert "[web] scale.web.access INFO POST /api/queue/new-job/ 201" in text
        assert "QUEUED" in text and "RUNNING on node" in text
        wait_until(lambda: "[clock] scale.clock INFO clock started" in log_path.read_text(),
                   what="the clock to start", timeout=30)

        today = dt.datetime.now(dt.UTC).date().isoformat()
        status, computed = request("POST", f"{base}/api/metrics/compute/", {"day": today}, token)
        assert status == 200 and computed["rows"]["metrics_job_type"] >= 1, computed
        status, plot = request("GET", f"{base}/api/metrics/job-types/plot-data/?column=completed_count"
                                      f"&choice_id={job_type['id']}")
        assert plot["results"][0]["values"] == [{"date": today, "value": 1}]

        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as resp:
            exposition = resp.read().decode()
        assert 'scale_job_executions_total{job_type="hello",status="COMPLETED",version="1.0"} 1.0' in exposition
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, log_path.read_text()[-3000:]
