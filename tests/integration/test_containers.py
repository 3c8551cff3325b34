"""Docker containers as running tasks, against the real daemon that bin/docker-up starts.

No skips: CI runs jobs in containers, so a missing daemon fails here, loudly."""

from __future__ import annotations

import itertools
import os
import secrets
import time
from pathlib import Path

import pytest
from docker.errors import NotFound

from scale.execution.containers import (
    ContainerLaunchError,
    container_name,
    docker_client,
    find_container,
    start_container,
)
from scale.execution.runner import JobRunner
from scale.execution.tasks import TaskSpec
from scale.nodes.service import get_scheduler
from scale.resources import Resources
from scale.scheduler.managers.local import LocalManager
from tests.docker_images import build_busybox_image
from tests.helpers import wait_until

pytestmark = pytest.mark.integration

# Ids far from any a test database hands out, different on each run, so leftovers of a
# crashed run never collide with this one's container names.
_exe_ids = itertools.count(10**9 + secrets.randbelow(10**8) * 1000)
# This run's installation; a test of two installations makes its own second id.
INSTALLATION = secrets.token_hex(16)


@pytest.fixture(scope="module")
def client():
    client = docker_client(None)
    client.ping()  # no daemon: every test here errors, pointing at bin/docker-up
    yield client
    client.close()


@pytest.fixture(scope="module")
def image(client) -> str:
    started = time.monotonic()
    build_busybox_image(client)
    print(f"busybox image ready in {time.monotonic() - started:.2f}s")
    return "scale-test/busybox:1"


@pytest.fixture
def make_spec(tmp_path, client, image):
    """TaskSpec factory with real directories and empty log files; removes the containers
    of the specs it made, whatever the test did."""
    made: list[tuple[str, int]] = []

    def make(*argv: str, **changes) -> TaskSpec:
        job_exe_id = changes.pop("job_exe_id", None) or next(_exe_ids)
        installation_id = changes.pop("installation_id", INSTALLATION)
        made.append((installation_id, job_exe_id))
        work = tmp_path / installation_id[:12] / str(job_exe_id)
        for sub in ("inputs", "outputs"):
            (work / sub).mkdir(parents=True)
        for name in ("stdout.log", "stderr.log"):
            (work / name).touch()
        fields = dict(
            installation_id=installation_id,
            job_exe_id=job_exe_id,
            argv=list(argv),
            work_dir=work,
            inputs_dir=work / "inputs",
            outputs_dir=work / "outputs",
            stdout_path=work / "stdout.log",
            stderr_path=work / "stderr.log",
            image=image,
            mem_mib=64,
            cpus=0.5,
        )
        fields.update(changes)
        return TaskSpec(**fields)

    yield make
    for installation_id, job_exe_id in made:
        try:
            client.containers.get(container_name(installation_id, job_exe_id)).remove(force=True)
        except NotFound:
            pass


def text(path: Path) -> str:
    return path.read_text()


def start_container_checked(client, spec: TaskSpec):
    task = start_container(client, spec)
    assert len(task.ident) == 64  # the full container id, stored on the execution
    return task


def test_runs_exact_argv_without_a_shell_and_copies_both_streams(client, make_spec):
    spec = make_spec("sh", "-c", 'echo out; echo err >&2; echo "$#"; echo "$2"; exit 3', "sh", "a b", "$HOME")
    started = time.monotonic()
    task = start_container_checked(client, spec)
    print(f"container start took {time.monotonic() - started:.2f}s")
    try:
        assert task.wait(20) == 3
        assert text(spec.stdout_path) == "out\n2\n$HOME\n"  # "a b" stayed one argument, $HOME unexpanded
        assert text(spec.stderr_path) == "err\n"
    finally:
        task.close()


def test_env_working_dir_and_user(client, make_spec):
    spec = make_spec("sh", "-c", 'echo "$GREETING"; pwd; id -u', env={"GREETING": "hello there"})
    task = start_container_checked(client, spec)
    try:
        assert task.wait(20) == 0
        assert text(spec.stdout_path).splitlines() == ["hello there", str(spec.work_dir), str(os.getuid())]
    finally:
        task.close()


def test_logs_are_readable_while_the_container_runs(client, make_spec):
    spec = make_spec("sh", "-c", "echo started; echo warming >&2; sleep 30")
    task = start_container_checked(client, spec)
    try:
        wait_until(lambda: text(spec.stdout_path) == "started\n", what="stdout while running")
        wait_until(lambda: text(spec.stderr_path) == "warming\n", what="stderr while running")
        assert task.poll() is None
    finally:
        task.kill()
        task.close()


def test_inputs_are_read_only_and_outputs_reach_the_host(client, make_spec):
    # Relative paths: the working directory is work_dir, which holds inputs/ and outputs/.
    spec = make_spec(
        "sh",
        "-c",
        "cat inputs/in.txt; echo tampered >> inputs/in.txt || echo refused >&2; echo result > outputs/out.txt",
    )
    source = spec.inputs_dir / "in.txt"
    source.write_text("data\n")
    task = start_container_checked(client, spec)
    try:
        assert task.wait(20) == 0
        assert text(spec.stdout_path) == "data\n"
        assert "Read-only file system" in text(spec.stderr_path)
        assert text(spec.stderr_path).endswith("refused\n")
        assert source.read_text() == "data\n"
        output = spec.outputs_dir / "out.txt"
        assert output.read_text() == "result\n"
        assert output.stat().st_uid == os.getuid()
    finally:
        task.close()


@pytest.mark.parametrize(("network", "interfaces"), [(False, ["lo"]), (True, ["eth0", "lo"])])
def test_no_network_unless_the_job_asks(client, make_spec, network, interfaces):
    spec = make_spec("ls", "/sys/class/net", network=network)
    task = start_container_checked(client, spec)
    try:
        assert task.wait(20) == 0
        assert text(spec.stdout_path).split() == interfaces
    finally:
        task.close()


def test_limits_labels_and_mounts_are_applied(client, make_spec):
    spec = make_spec("true", mem_mib=48, cpus=0.25)
    task = start_container_checked(client, spec)
    try:
        assert task.wait(20) == 0
        info = client.api.inspect_container(task.ident)
        host = info["HostConfig"]
        assert host["Memory"] == host["MemorySwap"] == 48 * 1024 * 1024
        assert host["NanoCpus"] == 250_000_000
        assert host["NetworkMode"] == "none"
        assert host["Privileged"] is False
        assert info["Name"] == f"/scale-{INSTALLATION[:12]}-exe-{spec.job_exe_id}"
        assert info["Config"]["Labels"]["scale.job_exe_id"] == str(spec.job_exe_id)
        assert info["Config"]["Labels"]["scale.installation_id"] == INSTALLATION
        assert info["Config"]["Entrypoint"] == ["true"] and not info["Config"]["Cmd"]
        writable = {mount["Destination"]: mount["RW"] for mount in info["Mounts"]}
        assert writable == {str(spec.work_dir): True, str(spec.inputs_dir): False, str(spec.outputs_dir): True}
    finally:
        task.close()


def host_grants_every_capability() -> bool:
    """Whether this process's bounding set holds every capability the kernel knows: a
    privileged container needs them all, and sandboxes (this project's VMs among them) drop
    some, CAP_SYS_RESOURCE here."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    status = Path("/proc/self/status").read_text()
    bounding = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapBnd:")), 16)
    return bounding == (1 << (last + 1)) - 1


def test_privileged_only_when_asked(client, make_spec):
    spec = make_spec("true", privileged=True)
    if not host_grants_every_capability():
        # runc cannot hand out capabilities the host lacks: a clean launch error, nothing left.
        with pytest.raises(ContainerLaunchError, match="caps"):
            start_container(client, spec)
        assert client.containers.list(all=True, filters={"name": container_name(INSTALLATION, spec.job_exe_id)}) == []
        return
    task = start_container_checked(client, spec)
    try:
        assert task.wait(20) == 0
        assert client.api.inspect_container(task.ident)["HostConfig"]["Privileged"] is True
    finally:
        task.close()


def test_exceeding_the_memory_limit_kills_the_container(client, make_spec):
    # A 64 MB shell variable in a 16 MiB container.
    spec = make_spec("sh", "-c", 'x="$(head -c 64000000 /dev/zero | tr "\\0" a)"; echo survived', mem_mib=16)
    task = start_container_checked(client, spec)
    try:
        assert task.wait(30) == 137
        assert task.oom_killed is True
        assert "survived" not in text(spec.stdout_path)
    finally:
        task.close()


def test_kill_stops_a_sleeping_container_within_seconds(client, make_spec):
    spec = make_spec("sleep", "60")
    task = start_container_checked(client, spec)
    try:
        wait_until(lambda: task.poll() is None, what="container running")
        started = time.monotonic()
        task.kill()
        assert task.wait(10) == 137
        assert time.monotonic() - started < 5
        task.kill()  # already ended: a no-op
    finally:
        task.close()


def test_find_container_reattaches_to_a_running_container_without_repeating_lines(client, make_spec):
    spec = make_spec("sh", "-c", "echo one; echo e1 >&2; sleep 2; echo two; echo e2 >&2; exit 4")
    first = start_container_checked(client, spec)
    wait_until(lambda: text(spec.stdout_path) == "one\n", what="first line")
    wait_until(lambda: text(spec.stderr_path) == "e1\n", what="first stderr line")
    first.detach()  # as if the scheduler died: the container goes on without a log copy
    ident = first.ident
    del first
    again = find_container(client, INSTALLATION, spec.job_exe_id)
    assert again is not None and again.ident == ident
    try:
        assert again.wait(20) == 4
        assert text(spec.stdout_path) == "one\ntwo\n"
        assert text(spec.stderr_path) == "e1\ne2\n"
    finally:
        again.close()


def test_find_container_reports_an_exit_that_happened_while_nobody_watched(client, make_spec):
    spec = make_spec("sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; exit 2")
    first = start_container_checked(client, spec)
    first.detach()  # at any point of the output: the file holds some prefix of it
    wait_until(lambda: client.api.inspect_container(first.ident)["State"]["Status"] == "exited", what="container exit")
    again = find_container(client, INSTALLATION, spec.job_exe_id)
    assert again is not None
    try:
        assert again.wait(20) == 2
        assert text(spec.stdout_path) == "".join(f"line {i}\n" for i in range(1, 6))
    finally:
        again.close()


def test_close_removes_the_container(client, make_spec):
    spec = make_spec("true")
    task = start_container_checked(client, spec)
    assert task.wait(20) == 0
    task.close()
    task.close()  # twice is harmless
    with pytest.raises(NotFound):
        client.api.inspect_container(task.ident)
    assert find_container(client, INSTALLATION, spec.job_exe_id) is None


def test_find_container_of_an_unknown_execution_is_none(client):
    assert find_container(client, INSTALLATION, next(_exe_ids)) is None


def test_a_missing_image_raises_quickly_and_leaves_nothing(client, make_spec):
    spec = make_spec("true", image="scale-test/absent:0")
    started = time.monotonic()
    with pytest.raises(ContainerLaunchError, match="scale-test/absent:0"):
        start_container(client, spec)
    assert time.monotonic() - started < 5
    assert client.containers.list(all=True, filters={"name": container_name(INSTALLATION, spec.job_exe_id)}) == []


def test_a_second_launch_of_the_same_execution_is_refused(client, make_spec):
    spec = make_spec("sleep", "30")
    task = start_container_checked(client, spec)
    try:
        with pytest.raises(ContainerLaunchError, match=container_name(INSTALLATION, spec.job_exe_id)):
            start_container(client, spec)
        assert task.poll() is None  # the first one is untouched
    finally:
        task.kill()
        task.close()


def test_a_refused_configuration_leaves_no_container(client, make_spec):
    spec = make_spec("true", mem_mib=1)  # below the daemon's 6 MB minimum
    with pytest.raises(ContainerLaunchError, match="Minimum memory"):
        start_container(client, spec)
    assert client.containers.list(all=True, filters={"name": container_name(INSTALLATION, spec.job_exe_id)}) == []


def test_another_installations_container_of_the_same_execution_is_neither_found_nor_reaped(
        client, make_spec, tmp_path, sessions):
    """Two Scale homes on one machine both number their executions from 1: each starts its
    own container for the same execution id, and reaping one (as a scheduler reconciling what
    its predecessor left does) leaves the other running."""
    with sessions() as session:
        installation = get_scheduler(session).installation_id
    mine = make_spec("sleep", "30", installation_id=installation)
    theirs = make_spec("sleep", "30", installation_id=secrets.token_hex(16), job_exe_id=mine.job_exe_id)
    my_task = start_container_checked(client, mine)
    their_task = start_container_checked(client, theirs)
    try:
        found = find_container(client, installation, mine.job_exe_id)
        assert found is not None and found.ident == my_task.ident
        found.detach()
        manager = LocalManager(sessions=sessions, work_root=tmp_path / "work",
                               runner=JobRunner(sessions, tmp_path / "work"), docker=lambda: client,
                               total=Resources(cpus=1, mem=64))
        manager.reap(mine.job_exe_id)
        assert client.containers.list(all=True, filters={"id": my_task.ident}) == []  # killed and removed
        assert client.api.inspect_container(their_task.ident)["State"]["Status"] == "running"
        manager.shutdown()
    finally:
        for task in (my_task, their_task):
            task.kill()
            task.close()
