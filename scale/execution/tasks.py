"""What the runner starts: a child process or a Docker container, behind one interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class TaskSpec:
    """One command to run for an execution.

    Paths are host paths; a container mounts each at the same path inside, so the argv the
    interface built is valid in both placements. `inputs_dir` is mounted read-only and
    `outputs_dir` read-write. `installation_id` (`Scheduler.installation_id`) tags the process
    or container, so that reaping after a crash touches only this installation's work."""

    installation_id: str
    job_exe_id: int
    argv: Sequence[str]
    work_dir: Path
    inputs_dir: Path
    outputs_dir: Path
    stdout_path: Path
    stderr_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cpus: float = 1.0
    mem_mib: float = 64.0
    image: str | None = None
    network: bool = False
    privileged: bool = False


class RunningTask(Protocol):
    """A started command. `ident` (a pid or a container id) is stored on the execution so
    that a restarted scheduler can find the task again."""

    ident: str
    # True once the kernel has killed the task for exceeding its memory limit (a container's
    # `OOMKilled`; a child process cannot tell, and its SIGKILL says enough).
    oom_killed: bool

    def poll(self) -> int | None:
        """The exit code once the task has finished, else None. Never blocks."""

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds; the exit code, or None if still running."""

    def kill(self) -> None:
        """Stop the task now (SIGKILL or container kill); safe to call when it has ended."""

    def close(self) -> None:
        """Release what a finished task still holds (a container is removed). Called once its
        outcome is recorded, so a crash before then can still find it; safe to call twice."""
