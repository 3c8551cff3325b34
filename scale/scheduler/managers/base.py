"""The resource-manager interface: where nodes come from and how an execution is started.

The loop asks a manager for its nodes (`nodes()`, also the heartbeat), matches queued work
to them with `scale.scheduler.matching`, schedules the executions in the database, commits,
and only then calls `launch`. The same interface fits the placements of DESIGN.md:
- `local`: one node, this machine; `launch` runs the job runner on a thread.
- `mesos`: `nodes()` are the agents of the current offers; `launch` accepts an offer with a
  task running `scale execute JOB_EXE_ID`; `running()` follows task status updates.
- `celery`: `nodes()` are workers heartbeating their resources; `launch` sends a task to the
  node's own queue, whose worker calls the runner as a function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import sessionmaker

from scale.exceptions import InvalidTransition
from scale.models.errors import SystemErrorName
from scale.queue import transitions
from scale.resources import Resources

log = logging.getLogger(__name__)


class NodeGone(Exception):
    """From `launch`: the node left after the loop last saw it (a Mesos agent lost); nothing
    was started, so the loop puts the execution back in the queue without costing a try."""


@dataclass(frozen=True)
class NodeOffer:
    """A node a manager can place executions on, with its total capacity (cpus, mem MiB,
    disk MiB). `hostname` identifies the node row; `slave_id` is the Mesos agent id.
    `own_heartbeat`: the node writes its own `last_offer` (a `scale node`), so registering the
    offer must not refresh it."""

    hostname: str
    port: int
    total: Resources
    slave_id: str | None = None
    own_heartbeat: bool = False


class ResourceManager(Protocol):
    """A placement of executions. Calls come from the scheduler loop's one thread, except
    that implementations may finish executions on their own threads."""

    name: str
    # True when one scheduler places work on every node (celery, mesos): that scheduler leads
    # the cluster and a second one stands by; False for `local`, whose scheduler runs its one
    # node (a scheduler per machine).
    cluster_wide: bool

    def nodes(self) -> list[NodeOffer]:
        """The nodes available now with their total resources. Called every cycle; a node
        missing from the list takes no new work (its running executions are left alone)."""

    def launch(self, job_exe_id: int, node: NodeOffer) -> None:
        """Start an execution already scheduled (RUNNING, committed) on `node`. Raises NodeGone
        when the node has left (the loop queues it again), anything else if it could not be
        started (the loop fails it with the SYSTEM error `task-launch`)."""

    def running(self) -> set[int]:
        """Ids of the executions this manager has launched that have not finished yet. An
        execution leaves this set only after its outcome is committed (or its runner gave up):
        the loop reconciles RUNNING executions on its nodes that are missing from it."""

    def kill(self, job_exe_id: int) -> None:
        """Stop a running execution (it was canceled); a no-op if it is not running."""

    def reattach(self, job_exe_id: int) -> bool:
        """The execution was left RUNNING by a scheduler that died and this manager is not
        running it: if its task still exists (a container), follow it to its end and report
        as a launch would, and return True; False when it cannot go on."""

    def reap(self, job_exe_id: int) -> None:
        """The execution was left RUNNING by a scheduler that died and this manager is not
        running it: stop whatever of it may still run (a container, a Mesos task), so that
        the loop can fail it with `node-lost` and queue it again without running it twice."""

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to `timeout` seconds, returning early when an execution finishes (its
        resources are free again, so the loop may schedule at once). True when one finished."""

    def shutdown(self) -> set[int]:
        """Release the manager's resources, stopping what it runs in this process. Returns the
        ids of the executions it stopped without an outcome (the loop puts them back in the
        queue); executions that live on elsewhere (a Mesos task, a node's own process) are not
        among them: the next scheduler reconciles those."""


def follow_up(on_finished: Callable[[int], None] | None, job_exe_id: int) -> None:
    """Give an ended (and recorded) execution to the shell's `on_finished`, if any. A failure
    there is logged, not raised: the clock's sweep re-sends what it could not."""
    if on_finished is None:
        return
    try:
        on_finished(job_exe_id)
    except Exception:
        log.exception("after job execution %s ended", job_exe_id)


def fail_quietly(sessions: sessionmaker, job_exe_id: int, error_name: SystemErrorName) -> None:
    """Fail execution `job_exe_id` with `error_name` (retried while tries remain) in a
    transaction of its own, from a thread nobody waits on (a runner's, a send's, the Mesos
    stream's). Logs and never raises.

    An execution another writer ended first is left as it is, without a log line: that writer's
    outcome stands. When the database cannot be reached, the error is logged and not retried:
    the execution stays RUNNING, and the scheduler fails it `node-lost` when it reconciles
    (every heartbeat, for one its manager is not running) or when its node is lost. That is the
    safest of the policies this replaces: retrying here would hold the calling thread (the
    Mesos event stream, the launch senders) for as long as the outage lasts, while leaving the
    execution RUNNING loses nothing, as reconciliation finds it."""
    try:
        with sessions.begin() as session:
            transitions.fail_execution(session, job_exe_id, error_name=error_name)
    except InvalidTransition:
        pass
    except Exception:
        log.exception("could not fail job execution %s", job_exe_id)
