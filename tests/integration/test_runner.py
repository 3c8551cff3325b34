"""The job runner end to end: real scripts under /bin/sh, real files in a host workspace, and a
real database (the rolled-back `sessions`, or `committed_sessions` where another connection
cancels the job while it runs)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from scale.execution import runner as runner_module
from scale.execution.base import Outcome
from scale.execution.runner import run_execution
from scale.models import (
    Error,
    ErrorCategory,
    FileAncestryLink,
    JobExecution,
    JobExecutionStatus,
    JobStatus,
    ScaleFile,
    ScaleFileType,
)
from scale.queue import transitions
from tests.factories import INPUT_BYTES, WORDS, RunnerSetup
from tests.helpers import statements, wait_until

pytestmark = pytest.mark.integration

# Writes one product (the argument count, the property, then the input) and a 1.1 manifest.
GOOD_SCRIPT = """
out="$3"
{ echo "$#"; echo "$2"; cat "$1"; } > "$out/result.txt"
printf '{"version": "1.1", "output_data": [{"name": "out", "file": {"path": "%s/result.txt"}}]}' "$out" \
  > "$out/results_manifest.json"
echo "done on stdout"
"""


@pytest.fixture
def setup(sessions: sessionmaker, tmp_path: Path) -> RunnerSetup:
    with sessions.begin() as session:
        return RunnerSetup(session, tmp_path)


def make_job(sessions: sessionmaker, setup: RunnerSetup, script: str, **kwargs) -> int:
    with sessions.begin() as session:
        return setup.job(session, script, **kwargs).id


def run(sessions: sessionmaker, setup: RunnerSetup, exe_id: int, **kwargs):
    return run_execution(sessions, exe_id, work_root=setup.work_root, poll_interval=0.05, **kwargs)


def execution(sessions: sessionmaker, exe_id: int) -> JobExecution:
    """The execution and its job as they are now in the database."""
    with sessions() as session:
        exe = session.get(JobExecution, exe_id)
        assert exe is not None
        assert exe.job is not None  # loaded while the session is open
        return exe


def error_name(sessions: sessionmaker, exe_id: int) -> str | None:
    with sessions() as session:
        exe = session.get(JobExecution, exe_id)
        return exe.error.name if exe.error else None


def log_text(setup: RunnerSetup, exe_id: int, name: str) -> str:
    return (setup.work_root / str(exe_id) / name).read_text()


def test_completed_execution_stores_product_with_bytes_and_ancestry(sessions, setup):
    with sessions.begin() as session:
        # The input has an ancestor of its own, which its product must inherit.
        grandparent = ScaleFile(file_type=ScaleFileType.SOURCE, file_name="raw.bin", media_type="x/y", file_size=1,
                                file_path="raw.bin", workspace_id=setup.workspace.id, uuid="1" * 32)
        session.add(grandparent)
        earlier = setup.job(session, "exit 0")
        session.flush()
        session.add(FileAncestryLink(ancestor_id=grandparent.id, descendant_id=setup.input_file.id,
                                     job_exe_id=earlier.id, job_id=earlier.job_id))
        exe_id = setup.job(session, GOOD_SCRIPT).id
        grandparent_id = grandparent.id
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name, result.exit_code) == (Outcome.COMPLETED, None, 0)
    with sessions() as session:
        exe = session.get(JobExecution, exe_id)
        assert exe.status == JobExecutionStatus.COMPLETED and exe.job.status == JobStatus.COMPLETED
        product = session.scalars(select(ScaleFile).where(ScaleFile.job_exe_id == exe_id)).one()
        expected = f"3\n{WORDS}\n".encode() + INPUT_BYTES
        assert (setup.workspace_root / product.file_path).read_bytes() == expected
        assert product.file_path == f"{exe.job.job_type.name}/{exe_id}/result.txt"
        assert (product.file_type, product.file_name, product.media_type, product.file_size) == (
            ScaleFileType.PRODUCT, "result.txt", "text/plain", len(expected))
        assert (product.job_id, product.job_type_id, product.workspace_id) == (
            exe.job_id, exe.job.job_type_id, setup.workspace.id)
        assert len(product.uuid) == 32
        ancestors = set(session.scalars(select(FileAncestryLink.ancestor_id)
                                        .where(FileAncestryLink.descendant_id == product.id)))
        assert ancestors == {setup.input_file.id, grandparent_id}
        assert exe.job.results == {"version": "1.0", "output_data": [{"name": "out", "file_id": product.id}]}
        assert exe.results_manifest["output_data"][0]["name"] == "out"
        assert exe.job_exit_code == 0
        assert exe.stdout_path.endswith("stdout.log") and "done on stdout" in Path(exe.stdout_path).read_text()


def test_property_with_spaces_and_semicolon_reaches_the_script_as_one_argument(sessions, setup):
    exe_id = make_job(sessions, setup, GOOD_SCRIPT)
    assert run(sessions, setup, exe_id).outcome == Outcome.COMPLETED
    lines = (setup.work_root / str(exe_id) / "outputs/result.txt").read_text().splitlines()
    assert lines[:2] == ["3", WORDS]
    assert f"'{WORDS}'" in execution(sessions, exe_id).command_arguments  # shell-quoted, for display only


def test_non_zero_exit_code_is_mapped_through_the_error_mapping(sessions, setup):
    with sessions.begin() as session:
        session.add(Error(name="bad-input", title="Bad input", category=ErrorCategory.DATA))
    exe_id = make_job(sessions, setup, "echo nope >&2; exit 3",
                      error_mapping={"version": "1.0", "exit_codes": {"3": "bad-input"}})
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name, result.exit_code) == (Outcome.FAILED, "bad-input", 3)
    exe = execution(sessions, exe_id)
    assert (exe.status, exe.job_exit_code, exe.job.status) == (JobExecutionStatus.FAILED, 3, JobStatus.FAILED)
    assert error_name(sessions, exe_id) == "bad-input"
    assert "nope" in log_text(setup, exe_id, "stderr.log")


def test_unmapped_exit_code_is_algorithm_unknown(sessions, setup):
    exe_id = make_job(sessions, setup, "exit 5", error_mapping={"version": "1.0", "exit_codes": {"3": "unknown"}},
                      max_tries=3)
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "algorithm-unknown")
    assert error_name(sessions, exe_id) == "algorithm-unknown"
    assert execution(sessions, exe_id).job.status == JobStatus.FAILED  # ALGORITHM: final despite tries left


def queued_again(sessions: sessionmaker, exe_id: int) -> bool:
    """True when the execution's job went back to the queue with a new execution."""
    with sessions() as session:
        job = session.get(JobExecution, exe_id).job
        return job.status == JobStatus.QUEUED and any(
            exe.status == JobExecutionStatus.QUEUED for exe in job.job_exes if exe.id != exe_id)


@pytest.mark.parametrize(("script", "exit_code"), [
    ("kill -9 $$", -9),                                # the command itself killed: what Popen reports
    ("sh -c 'kill -9 $$'; exit $?", 137),              # a shell whose child was killed (and a container)
    ("kill -TERM $$", -15),                            # stopped by an operator or a shutdown
], ids=["sigkill", "child-sigkill-137", "sigterm"])
def test_a_command_killed_from_outside_is_the_system_error_killed_and_is_retried(sessions, setup, script, exit_code):
    exe_id = make_job(sessions, setup, script, max_tries=3)
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name, result.exit_code) == (Outcome.FAILED, "killed", exit_code)
    assert error_name(sessions, exe_id) == "killed"
    assert queued_again(sessions, exe_id)  # SYSTEM: tried again while tries remain


def test_an_exit_code_the_job_type_maps_stays_final_even_if_it_looks_like_a_kill(sessions, setup):
    with sessions.begin() as session:
        session.add(Error(name="gave-up", title="Gave up", category=ErrorCategory.DATA))
    exe_id = make_job(sessions, setup, "exit 137", max_tries=3,
                      error_mapping={"version": "1.0", "exit_codes": {"137": "gave-up"}})
    assert run(sessions, setup, exe_id).error_name == "gave-up"
    assert execution(sessions, exe_id).job.status == JobStatus.FAILED


def test_a_crash_of_the_command_itself_is_final(sessions, setup):
    exe_id = make_job(sessions, setup, "kill -SEGV $$", max_tries=3)
    result = run(sessions, setup, exe_id)
    assert (result.error_name, result.exit_code) == ("algorithm-unknown", -11)
    assert execution(sessions, exe_id).job.status == JobStatus.FAILED


def test_nonexistent_command_is_algorithm_unknown(sessions, setup):
    exe_id = make_job(sessions, setup, "", command=str(setup.tmp_path / "no-such-program"))
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name, result.exit_code) == (Outcome.FAILED, "algorithm-unknown", 127)
    assert "command not found" in log_text(setup, exe_id, "stderr.log")


def test_invalid_results_manifest(sessions, setup):
    exe_id = make_job(sessions, setup, 'echo "{not json" > "$3/results_manifest.json"')
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "invalid-results-manifest")
    assert error_name(sessions, exe_id) == "invalid-results-manifest"
    with sessions() as session:
        assert session.scalars(select(ScaleFile).where(ScaleFile.job_exe_id == exe_id)).all() == []


def test_missing_required_output(sessions, setup):
    exe_id = make_job(sessions, setup, "exit 0")
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "missing-required-output")
    assert "required output 'out'" in log_text(setup, exe_id, "stderr.log")
    assert not (setup.workspace_root / "script-1").exists()


def test_artifact_line_and_parse_results(sessions, setup):
    script = """
echo product > "$3/made.txt"
echo "ARTIFACT:out:$3/made.txt"
cat > "$3/results_manifest.json" <<EOF
{"parse_results": [{"filename": "input.txt", "data_types": ["TXT"],
  "geo_metadata": {"data_started": "2016-01-02T03:04:05Z",
                   "geo_json": {"type": "Point", "coordinates": [10.0, 20.0]}}}]}
EOF
"""
    exe_id = make_job(sessions, setup, script)
    assert run(sessions, setup, exe_id).outcome == Outcome.COMPLETED
    with sessions() as session:
        source = session.get(ScaleFile, setup.input_file.id)
        session.refresh(source)
        assert source.is_parsed and source.parsed is not None
        assert source.data_type == ["TXT"]
        assert source.data_started.year == 2016
        assert source.geometry["type"] == "Point" and source.geometry["coordinates"] == [10.0, 20.0]
        product = session.scalars(select(ScaleFile).where(ScaleFile.job_exe_id == exe_id)).one()
        assert (setup.workspace_root / product.file_path).read_text() == "product\n"


def test_parse_result_for_a_file_that_is_not_an_input_is_an_invalid_manifest(sessions, setup):
    script = """
echo product > "$3/made.txt"
echo "ARTIFACT:out:made.txt"
echo '{"parse_results": [{"filename": "other.txt"}]}' > "$3/results_manifest.json"
"""
    exe_id = make_job(sessions, setup, script)
    assert run(sessions, setup, exe_id).error_name == "invalid-results-manifest"
    with sessions() as session:
        assert session.scalars(select(ScaleFile).where(ScaleFile.job_exe_id == exe_id)).all() == []
        assert not session.get(ScaleFile, setup.input_file.id).is_parsed


def test_timeout_kills_the_process_group(sessions, setup):
    pid_file = setup.tmp_path / "sleep.pid"
    exe_id = make_job(sessions, setup, f"sleep 60 & echo $! > {pid_file}; wait", timeout=1)
    started = time.monotonic()
    result = run(sessions, setup, exe_id)
    assert time.monotonic() - started < 1 + 2
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "timeout")
    assert error_name(sessions, exe_id) == "timeout"
    sleeper = int(pid_file.read_text())
    wait_until(lambda: not _alive(sleeper), what="the background sleep to be killed")


def test_should_stop_kills_without_reporting(sessions, setup):
    exe_id = make_job(sessions, setup, "echo started; sleep 60")
    stdout = setup.work_root / str(exe_id) / "stdout.log"
    started = time.monotonic()
    result = run(sessions, setup, exe_id, should_stop=lambda: stdout.exists() and "started" in stdout.read_text())
    assert result.outcome == Outcome.STOPPED
    assert time.monotonic() - started < 10
    assert execution(sessions, exe_id).status == JobExecutionStatus.RUNNING  # left to reconciliation


def test_logs_are_visible_while_the_script_runs(sessions, setup):
    go = setup.tmp_path / "go"
    exe_id = make_job(sessions, setup, f"echo 'line on stdout'; echo 'line on stderr' >&2\n"
                                       f"while [ ! -e {go} ]; do sleep 0.05; done\n" + GOOD_SCRIPT)
    results = []
    thread = threading.Thread(target=lambda: results.append(run(sessions, setup, exe_id)))
    thread.start()
    try:
        work = setup.work_root / str(exe_id)
        wait_until(lambda: (work / "stdout.log").exists() and "line on stdout" in (work / "stdout.log").read_text(),
                   what="stdout line")
        wait_until(lambda: "line on stderr" in (work / "stderr.log").read_text(), what="stderr line")
        assert thread.is_alive()
    finally:
        go.touch()
        thread.join(30)
    assert results[0].outcome == Outcome.COMPLETED


def test_runner_fault_is_the_system_error_unknown_with_traceback(sessions, setup, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the runner broke")

    monkeypatch.setattr(runner_module, "collect_outputs", broken)
    exe_id = make_job(sessions, setup, "exit 0", max_tries=1)
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "unknown")
    assert error_name(sessions, exe_id) == "unknown"
    log = log_text(setup, exe_id, "stderr.log")
    assert "Traceback" in log and "the runner broke" in log


def test_missing_input_file_is_a_pre_task_failure(sessions, setup):
    (setup.workspace_root / "sources/input.txt").unlink()
    marker = setup.tmp_path / "ran"
    exe_id = make_job(sessions, setup, f"touch {marker}")
    result = run(sessions, setup, exe_id)
    assert (result.outcome, result.error_name) == (Outcome.FAILED, "pre-task")
    assert not marker.exists()


def test_execution_that_is_not_running_is_not_started(sessions, setup):
    marker = setup.tmp_path / "ran"
    with sessions.begin() as session:
        exe = setup.job(session, f"touch {marker}")
        exe.status = JobExecutionStatus.CANCELED
        exe_id = exe.id
    assert run(sessions, setup, exe_id).outcome == Outcome.STOPPED
    assert not marker.exists()


def test_cancel_while_running_kills_the_task(committed_sessions, tmp_path):
    with committed_sessions.begin() as session:
        setup = RunnerSetup(session, tmp_path)
        exe = setup.job(session, "echo started; sleep 60")
        exe_id, job_id = exe.id, exe.job_id
    results = []
    thread = threading.Thread(target=lambda: results.append(run(committed_sessions, setup, exe_id)))
    started = time.monotonic()
    thread.start()
    stdout = setup.work_root / str(exe_id) / "stdout.log"
    wait_until(lambda: stdout.exists() and "started" in stdout.read_text(), what="the task to start")
    with committed_sessions.begin() as session:
        transitions.cancel_job(session, job_id)
    thread.join(10)
    assert not thread.is_alive() and results[0].outcome == Outcome.STOPPED
    assert time.monotonic() - started < 10
    assert execution(committed_sessions, exe_id).status == JobExecutionStatus.CANCELED


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (killed, not yet reaped by init) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class FakeContainer:
    """Stands in for a started container: exits 0 at once after writing an artifact."""

    def __init__(self, spec) -> None:
        self.ident = "container-1"
        self.closed = False
        (Path(spec.outputs_dir) / "c.txt").write_text("from a container")
        with open(spec.stdout_path, "a") as stdout:
            stdout.write(f"ARTIFACT:out:{spec.outputs_dir}/c.txt\n")

    def poll(self) -> int | None:
        return 0

    def wait(self, timeout: float) -> int | None:
        return 0

    def kill(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_docker_image_runs_a_container_and_removes_it_once_recorded(sessions, setup, monkeypatch):
    from scale.execution import containers

    started = []

    def fake_start(client, spec):
        assert client == "client" and spec.image == "busybox:1" and spec.argv[0] == "/bin/sh"
        started.append(FakeContainer(spec))
        return started[-1]

    monkeypatch.setattr(containers, "start_container", fake_start)
    with sessions.begin() as session:
        exe = setup.job(session, "exit 0")
        exe.job.job_type.docker_image = "busybox:1"
        exe_id = exe.id
    result = run(sessions, setup, exe_id, docker=lambda: "client")
    assert result.outcome == Outcome.COMPLETED
    assert started and started[0].closed


def test_docker_image_without_docker_is_the_docker_error(sessions, setup):
    with sessions.begin() as session:
        exe = setup.job(session, "exit 0")
        exe.job.job_type.docker_image = "busybox:1"
        exe_id = exe.id
    assert run(sessions, setup, exe_id).error_name == "docker"


def test_scale_execute_runs_one_execution(committed_sessions, settings, tmp_path):
    from cli.execute import execute

    with committed_sessions.begin() as session:
        setup = RunnerSetup(session, tmp_path)
        exe_id = setup.job(session, GOOD_SCRIPT).id
    assert execute(settings, exe_id) == 0
    assert execution(committed_sessions, exe_id).status == JobExecutionStatus.COMPLETED
    assert (settings.work_root / str(exe_id) / "outputs/result.txt").exists()


def test_background_processes_end_with_the_command(sessions, setup):
    pid_file = setup.tmp_path / "straggler.pid"
    exe_id = make_job(sessions, setup, f"sleep 60 >/dev/null 2>&1 & echo $! > {pid_file}; exit 4")
    assert run(sessions, setup, exe_id).error_name == "algorithm-unknown"
    straggler = int(pid_file.read_text())
    wait_until(lambda: not _alive(straggler), what="the background sleep to be killed")


def test_a_job_without_files_or_products_is_five_statements(sessions, setup):
    """The runner's cost per no-op job (bench/throughput): read the plan and record the start
    in one transaction (SELECT, UPDATE), complete in another (lock SELECT, two UPDATEs); no
    product, lineage or status re-read."""
    with sessions.begin() as session:
        exe_id = setup.noop(session).id
    with statements(sessions.kw["bind"]) as seen:
        result = run(sessions, setup, exe_id)
    assert result.outcome == Outcome.COMPLETED
    assert [s.split()[0] for s in seen] == ["SELECT", "UPDATE", "SELECT", "UPDATE", "UPDATE"], seen
    exe = execution(sessions, exe_id)
    assert (exe.status, exe.job.status, exe.command_arguments) == ("COMPLETED", "COMPLETED", "")
    assert exe.job_started is not None and exe.stdout_path == str(setup.work_root / str(exe_id) / "stdout.log")
