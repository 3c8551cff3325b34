"""A job's command run as a child process on this node (the runner's non-Docker placement).

* The argv is executed directly, never through a shell.
* stdout and stderr are appended to the execution's two log files by the child itself, so
  each line is in the log as soon as the command writes it (`PYTHONUNBUFFERED` is set so a
  Python command does not hold its output back).
* The environment is minimal and does not leak the node's: `PATH` (this Python's bin
  directory, so `scale` resolves, then the system directories), `HOME` and `TMPDIR` in the
  work directory, `LANG`, plus the task's own `env`.
* The child leads a new session, so `kill()` SIGKILLs its whole process group, including
  anything it started in the background. That session outlives a scheduler killed with -9,
  so the child's environment carries `SCALE_INSTALLATION_ID` and `SCALE_JOB_EXE_ID`:
  `kill_leftover_processes` finds the process groups an execution left (by those variables,
  not by a pid that may have been reused) when the next scheduler reconciles the execution.
  Both must match: another Scale home on the same machine numbers its executions from 1 too,
  and its jobs are none of this installation's business.
* A command that cannot be executed (missing, or not executable) does not raise: the task
  is returned already finished with the shell's codes, 127 (not found) or 126 (cannot
  execute), and the reason is appended to the stderr log. The runner then maps that code like
  any other, so unless the job type's error mapping names it the execution fails with the
  ALGORITHM error `algorithm-unknown`: the job type's command is wrong, and retrying on
  another node would not fix it."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

from scale.execution.tasks import RunningTask, TaskSpec

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOT_FOUND_EXIT_CODE = 127
NOT_EXECUTABLE_EXIT_CODE = 126
# In every job process's environment: the installation (`Scheduler.installation_id`) and the
# execution it belongs to.
INSTALLATION_MARKER = "SCALE_INSTALLATION_ID"
EXECUTION_MARKER = "SCALE_JOB_EXE_ID"


class ProcessTask:
    """A started child process; `ident` is its pid (and process group id)."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.ident = str(popen.pid)
        self.oom_killed = False

    def poll(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        try:
            os.killpg(self._popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass  # the group has already gone
        self._popen.wait()

    def close(self) -> None:
        """A reaped child holds nothing."""


class FailedLaunch:
    """A command that could not be executed: finished from the start with `exit_code`."""

    def __init__(self, exit_code: int) -> None:
        self.ident = ""
        self.oom_killed = False
        self._exit_code = exit_code

    def poll(self) -> int | None:
        return self._exit_code

    def wait(self, timeout: float) -> int | None:
        return self._exit_code

    def kill(self) -> None:
        """Nothing is running."""

    def close(self) -> None:
        """Nothing is held."""


def task_environment(spec: TaskSpec) -> dict[str, str]:
    """The child's whole environment: the minimal base, then `spec.env` (which wins)."""
    python_bin = str(Path(sys.executable).parent)
    base = {
        "PATH": f"{python_bin}:{SYSTEM_PATH}",
        "HOME": str(spec.work_dir),
        "TMPDIR": str(spec.work_dir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    return {**base, **{str(key): str(value) for key, value in spec.env.items()},
            INSTALLATION_MARKER: spec.installation_id, EXECUTION_MARKER: str(spec.job_exe_id)}


def kill_leftover_processes(installation_id: str, job_exe_id: int, proc: Path = Path("/proc")) -> int:
    """SIGKILL the process groups of every process on this machine whose environment names
    both this installation and execution `job_exe_id` (a child of a scheduler that died);
    returns how many groups. Processes that end meanwhile, or that this user may not read, are
    skipped."""
    markers = {f"{INSTALLATION_MARKER}={installation_id}".encode(), f"{EXECUTION_MARKER}={job_exe_id}".encode()}
    groups: set[int] = set()
    for entry in proc.glob("[0-9]*"):
        try:
            if markers <= set((entry / "environ").read_bytes().split(b"\0")):
                groups.add(os.getpgid(int(entry.name)))
        except (OSError, ValueError):
            continue
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(groups)


def start_process(spec: TaskSpec) -> RunningTask:
    """Start `spec.argv` in `spec.work_dir` (see the module docstring for the contract).

    Raises OSError only for failures of the node itself (the work directory or log files
    cannot be opened, no more processes); a bad command is a FailedLaunch."""
    with spec.stdout_path.open("ab") as stdout, spec.stderr_path.open("ab") as stderr:
        if not spec.argv:
            stderr.write(b"scale: the command is empty\n")
            return FailedLaunch(NOT_FOUND_EXIT_CODE)
        try:
            popen = subprocess.Popen(
                list(spec.argv),
                cwd=spec.work_dir,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                env=task_environment(spec),
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError) as error:
            if isinstance(error, FileNotFoundError) and error.filename != str(spec.work_dir):
                reason, code = f"command not found: {spec.argv[0]!r}", NOT_FOUND_EXIT_CODE
            elif error.errno in (errno.EACCES, errno.EISDIR, errno.ENOTDIR, errno.EPERM):
                reason, code = f"cannot execute {spec.argv[0]!r}: {error.strerror}", NOT_EXECUTABLE_EXIT_CODE
            else:
                raise
            stderr.write(f"scale: {reason}\n".encode())
            return FailedLaunch(code)
    return ProcessTask(popen)
