"""A Docker container as a `RunningTask`: started from a `TaskSpec`, found again after a crash.

The container is named `scale-<installation>-exe-<job_exe_id>` (the first 12 characters of
`Scheduler.installation_id`) and labelled with the installation id, the execution id and the
two host log paths, so `find_container` needs nothing but the client and the two ids. Two
Scale homes on one machine number their executions alike: the installation keeps their
containers apart, by name at creation and by label when a scheduler reaps what its
predecessor left. Its stdout and stderr are copied into the execution's log files by two
threads that follow the daemon's log stream, so the files grow while the container runs.

Containers are never removed when they exit: a scheduler that crashes between the exit and
recording the result finds the container (and its exit code) again. The runner calls
`close()` once the result is stored; that removes the container.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import LogConfig

from scale.execution.tasks import TaskSpec

log = logging.getLogger(__name__)

API_TIMEOUT_SECONDS = 30
"""Per request to the daemon. Launch never pulls, so nothing legitimate takes longer; the
log streams disable this timeout for themselves (docker-py does so for streams)."""

LOG_DRAIN_SECONDS = 5.0
"""How long `poll()` waits, after seeing the container exit, for the log threads to copy the
last bytes before it reports the exit code anyway."""

LABEL_INSTALLATION = "scale.installation_id"
LABEL_EXE = "scale.job_exe_id"
LABEL_STDOUT = "scale.stdout_path"
LABEL_STDERR = "scale.stderr_path"
EXITED_STATES = frozenset({"exited", "dead"})


class ContainerLaunchError(Exception):
    """The container could not be started: missing image, daemon down or refusing the
    configuration. The runner records it as the SYSTEM error `docker`."""


def docker_client(url: str | None = None) -> docker.DockerClient:
    """A client for the daemon at `url` (e.g. `unix:///var/run/docker.sock`), or the one
    named by DOCKER_HOST & co. when None. The API version is negotiated with the daemon."""
    if url is None:
        return docker.from_env(timeout=API_TIMEOUT_SECONDS)
    return docker.DockerClient(base_url=url, timeout=API_TIMEOUT_SECONDS)


def container_name(installation_id: str, job_exe_id: int) -> str:
    return f"scale-{installation_id[:12]}-exe-{job_exe_id}"


def start_container(client: docker.DockerClient, spec: TaskSpec) -> ContainerTask:
    """Create and start the container for `spec` and begin copying its logs.

    argv[0] replaces the image's entrypoint and argv[1:] is the command, so exactly argv
    runs, with no shell, whatever ENTRYPOINT/CMD the image declares. The three directories
    are bind-mounted at their host paths (inputs read-only). The process runs as the
    runner's own uid:gid so that outputs and work files belong to the scheduler, as they do
    for a child process; a privileged job runs as the image's user instead, since it asked
    for root powers. Images are never pulled: one absent locally raises
    ContainerLaunchError at once. Raises ContainerLaunchError for any daemon refusal; no
    container is left behind then."""
    if not spec.argv:
        raise ContainerLaunchError("empty argv: nothing to run")
    if spec.image is None:
        raise ContainerLaunchError("the task has no docker image")
    mem_bytes = int(spec.mem_mib * 1024 * 1024)
    options = {
        "image": spec.image,
        "entrypoint": [spec.argv[0]],
        "command": list(spec.argv[1:]),
        "name": container_name(spec.installation_id, spec.job_exe_id),
        "labels": {
            LABEL_INSTALLATION: spec.installation_id,
            LABEL_EXE: str(spec.job_exe_id),
            LABEL_STDOUT: str(spec.stdout_path),
            LABEL_STDERR: str(spec.stderr_path),
        },
        "environment": dict(spec.env),
        "working_dir": str(spec.work_dir),
        "volumes": {
            str(spec.work_dir): {"bind": str(spec.work_dir), "mode": "rw"},
            str(spec.inputs_dir): {"bind": str(spec.inputs_dir), "mode": "ro"},
            str(spec.outputs_dir): {"bind": str(spec.outputs_dir), "mode": "rw"},
        },
        "nano_cpus": int(spec.cpus * 1e9),
        # Swap equal to memory: the limit is the job's real ceiling, not memory plus as much swap.
        "mem_limit": mem_bytes,
        "memswap_limit": mem_bytes,
        "network_mode": "bridge" if spec.network else "none",
        "privileged": spec.privileged,
        # json-file whatever the daemon's default: the log copy reads the daemon's log stream.
        "log_config": LogConfig(type=LogConfig.types.JSON),
    }
    if not spec.privileged:
        options["user"] = f"{os.getuid()}:{os.getgid()}"
    try:
        client.images.get(spec.image)
    except ImageNotFound as error:
        raise ContainerLaunchError(f"image {spec.image!r} is not on this node (Scale never pulls)") from error
    except (DockerException, requests.RequestException) as error:
        raise ContainerLaunchError(f"docker daemon: {error}") from error
    container: Container | None = None
    try:
        container = client.containers.create(**options)
        container.start()
    except (DockerException, requests.RequestException) as error:
        if container is not None:
            _remove_quietly(container)
        raise ContainerLaunchError(f"cannot start {options['name']}: {error}") from error
    return ContainerTask(client, container.id, spec.stdout_path, spec.stderr_path)


def find_container(client: docker.DockerClient, installation_id: str, job_exe_id: int) -> ContainerTask | None:
    """The running or exited container of this installation's execution `job_exe_id`, with
    log copying resumed, or None when there is none (never created, or already closed).
    Another installation's container of the same execution id is never found.

    Log copying resumes from each file's current size: the stream is read again from the
    container's first byte and the bytes the file already holds are skipped, so no line is
    lost or written twice (a timestamp `since` would lose or repeat lines within one
    timestamp). This relies on nothing but the log copy writing those files while the task
    runs. A container that was created but never started (a crash between the two calls) is
    removed and None returned, so the runner launches again."""
    try:
        found = client.containers.list(all=True, filters={"label": [
            f"{LABEL_INSTALLATION}={installation_id}", f"{LABEL_EXE}={job_exe_id}"]})
    except (DockerException, requests.RequestException) as error:
        raise ContainerLaunchError(f"docker daemon: {error}") from error
    if not found:
        return None
    container = found[0]
    if container.status == "created":
        _remove_quietly(container)
        return None
    labels = container.labels
    return ContainerTask(client, container.id, Path(labels[LABEL_STDOUT]), Path(labels[LABEL_STDERR]))


class ContainerTask:
    """A started container (satisfies `RunningTask`). `ident` is the container id.

    Beyond the protocol: `close()` removes the container once its result is recorded,
    `detach()` stops the log copy but leaves the container to a later `find_container`, and
    `oom_killed` tells whether the kernel killed it for exceeding its memory limit."""

    def __init__(self, client: docker.DockerClient, container_id: str, stdout_path: Path, stderr_path: Path):
        self.ident = container_id
        self._api = client.api
        self._exited_at: float | None = None
        self.oom_killed = False
        self._copies = [
            _LogCopy(self._api, container_id, stdout_path, stdout=True),
            _LogCopy(self._api, container_id, stderr_path, stdout=False),
        ]

    def poll(self) -> int | None:
        """The exit code once the container has exited and its logs are in the files (or
        LOG_DRAIN_SECONDS have passed since the exit), else None. Never blocks on the
        container; one inspect request to the daemon. Raises docker.errors.NotFound when
        the container was removed behind our back."""
        state = self._api.inspect_container(self.ident)["State"]
        if state["Status"] not in EXITED_STATES:
            return None
        if self._exited_at is None:
            self._exited_at = time.monotonic()
        drained = not any(copy.alive() for copy in self._copies)
        if not drained and time.monotonic() - self._exited_at < LOG_DRAIN_SECONDS:
            return None
        self.oom_killed = bool(state.get("OOMKilled"))
        return int(state["ExitCode"])

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for `poll()` to give the exit code."""
        deadline = time.monotonic() + timeout
        while (code := self.poll()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(0.05, remaining))
        return code

    def kill(self) -> None:
        """SIGKILL the container (exit code 137); nothing happens when it has already ended
        or is gone."""
        try:
            self._api.kill(self.ident)
        except NotFound:
            return
        except APIError as error:
            if error.status_code != 409:  # 409: it is not running
                raise

    def detach(self) -> None:
        """Stop copying logs, leaving the container alone (a scheduler shutting down)."""
        for copy in self._copies:
            copy.stop()

    def close(self) -> None:
        """Stop copying logs and remove the container (killed first if still running).
        Call it after the result is recorded; safe to call twice."""
        self.detach()
        try:
            self._api.remove_container(self.ident, force=True)
        except NotFound:
            pass


class _LogCopy:
    """One stream (stdout or stderr) of a container followed into a host file by a daemon
    thread. The thread ends when the container stops (the daemon closes the stream)."""

    def __init__(self, api: docker.APIClient, container_id: str, path: Path, *, stdout: bool):
        self._api = api
        self._container_id = container_id
        self._path = path
        self._stdout = stdout
        self._stream = None
        self._stopped = threading.Event()
        name = f"scale-log-{container_id[:12]}-{'out' if stdout else 'err'}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.close()  # unblocks the thread's read
        self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            with open(self._path, "ab") as out:
                skip = out.tell()  # bytes an earlier copy already wrote (see find_container)
                stream = self._api.logs(
                    self._container_id, stdout=self._stdout, stderr=not self._stdout, stream=True, follow=True
                )
                self._stream = stream
                for chunk in stream:
                    if self._stopped.is_set():
                        return
                    if skip:
                        dropped = min(skip, len(chunk))
                        chunk, skip = chunk[dropped:], skip - dropped
                    if chunk:
                        out.write(chunk)
                        out.flush()
        except Exception:  # a thread has no caller: log, and poll() still reports the exit
            if not self._stopped.is_set():
                log.exception("copying the logs of container %s into %s failed", self._container_id, self._path)
        finally:
            if self._stream is not None:
                self._stream.close()


def _remove_quietly(container: Container) -> None:
    try:
        container.remove(force=True)
    except (DockerException, requests.RequestException):
        log.warning("could not remove container %s", container.name, exc_info=True)
