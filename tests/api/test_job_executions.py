"""Job execution services: /api/job-executions/ (list, details, logs)."""

from __future__ import annotations

import pytest

from scale.models.jobs import JobExecution
from scale.queue import service, transitions
from tests.factories import make_job_type, make_node, queued_job, run_job


@pytest.fixture
def exes(db, tmp_path):
    """A running execution on node-1 with log files, and a queued one of another type."""
    alpha = make_job_type(db, name="alpha", category="cat-a")
    beta = make_job_type(db, name="beta", category="cat-b")
    node = make_node(db)
    running_job = queued_job(db, alpha)
    running = run_job(db, running_job, node)
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    out.write_text("line 1\n")
    exe = db.get(JobExecution, running.id)
    exe.stdout_path, exe.stderr_path = str(out), str(err)
    queued = queued_job(db, beta)
    db.commit()
    return {"running": running, "queued_job": queued, "node": node, "stdout": out, "stderr": err}


def ids(resp):
    assert resp.status_code == 200, resp.get_json()
    return [exe["id"] for exe in resp.get_json()["results"]]


def test_list_executions_in_the_reference_shape(client, exes):
    body = client.get("/api/job-executions/?order=id").get_json()
    assert body["count"] == 2
    first = body["results"][0]
    assert first["id"] == exes["running"].id and first["status"] == "RUNNING"
    assert first["job"]["job_type"]["name"] == "alpha" and first["job"]["status"] == "RUNNING"
    assert first["node"] == {"id": exes["node"].id, "hostname": "node-1", "port": 5051, "slave_id": None}
    assert first["command_arguments"] == "a b" and first["job_started"].endswith("Z")
    assert body["results"][1]["node"] is None


@pytest.mark.parametrize("query,expected", [
    ("status=RUNNING", ["running"]), ("job_type_name=beta", ["queued"]), ("job_type_category=cat-a", ["running"]),
])
def test_list_executions_filters(client, db, exes, query, expected):
    queued_exe = db.get(JobExecution, exes["queued_job"].job_exes[0].id)
    wanted = {"running": exes["running"].id, "queued": queued_exe.id}
    assert ids(client.get(f"/api/job-executions/?{query}")) == [wanted[name] for name in expected]


def test_list_executions_by_node_and_nested_order(client, exes):
    assert ids(client.get(f"/api/job-executions/?node_id={exes['node'].id}")) == [exes["running"].id]
    assert ids(client.get("/api/job-executions/?order=-job_type__name"))[1] == exes["running"].id
    # Where a null node sorts differs between backends; both executions are listed either way.
    assert sorted(ids(client.get("/api/job-executions/?order=node__hostname"))) == sorted(
        [exes["running"].id, exes["queued_job"].job_exes[0].id])


@pytest.mark.parametrize("query,field", [("status=PENDING", "status"), ("node_id=x", "node_id"),
                                         ("order=nope", "order")])
def test_list_executions_bad_arguments_are_400(client, exes, query, field):
    resp = client.get(f"/api/job-executions/?{query}")
    assert resp.status_code == 400 and resp.get_json()["field"] == field


def test_execution_details(client, exes):
    body = client.get(f"/api/job-executions/{exes['running'].id}/").get_json()
    assert (body["cpus_scheduled"], body["disk_total_scheduled"]) == (1.0, 3.0)
    assert body["node"]["hostname"] == "node-1" and body["node"]["is_active"] is True
    assert body["environment"] == {} and body["results"] is None and body["results_manifest"] is None
    assert body["current_stdout_url"].endswith(f"/api/job-executions/{exes['running'].id}/logs/stdout/")
    assert body["current_stderr_url"].endswith("/logs/stderr/")


def test_unknown_execution_is_404(client):
    for path in ("", "logs/", "logs/stdout/"):
        assert client.get(f"/api/job-executions/999999/{path}").status_code == 404


def test_logs_while_running_then_after_completion(client, db, exes):
    url = f"/api/job-executions/{exes['running'].id}/logs/"
    body = client.get(url).get_json()
    # stderr has not been written yet: an empty string, not an error.
    assert (body["stdout"], body["stderr"], body["is_finished"]) == ("line 1\n", "", False)
    assert body["job"]["id"] == exes["running"].job_id
    exes["stdout"].write_text("line 1\nline 2\n")
    exes["stderr"].write_text("oops\n")
    transitions.complete_execution(db, exes["running"].id, results={}, exit_code=0)
    db.commit()
    body = client.get(url).get_json()
    assert (body["stdout"], body["stderr"], body["is_finished"]) == ("line 1\nline 2\n", "oops\n", True)
    assert client.get(url + "stdout/").get_data(as_text=True) == "line 1\nline 2\n"
    assert client.get(url + "stderr/").headers["Content-Type"].startswith("text/plain")


def test_logs_of_a_queued_execution_are_empty(client, db, exes):
    exe_id = exes["queued_job"].job_exes[0].id
    body = client.get(f"/api/job-executions/{exe_id}/logs/").get_json()
    assert (body["stdout"], body["stderr"]) == ("", "")
    assert client.get(f"/api/job-executions/{exe_id}/").get_json()["current_stdout_url"] is None


def test_read_log_returns_only_the_tail_of_a_large_file(tmp_path, monkeypatch):
    log = tmp_path / "big.log"
    log.write_text("a" * 10 + "b" * 5)
    monkeypatch.setattr(service, "LOG_LIMIT", 5)
    assert service.read_log(str(log)) == "bbbbb"
    assert service.read_log(str(tmp_path / "missing.log")) == ""
