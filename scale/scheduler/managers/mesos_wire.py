"""The Mesos v1 vocabulary Scale speaks (task states, task ids, offer resources), apart from the
`mesos` manager's threads and state (scale/scheduler/managers/mesos.py, mesos_launch.py; docs/mesos.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scale.models.errors import SystemErrorName
from scale.resources import Resources

TASK_PREFIX = "scale-exe-"

TERMINAL_STATES = frozenset({"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_ERROR", "TASK_LOST",
                             "TASK_DROPPED", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNREACHABLE",
                             "TASK_UNKNOWN"})
# TASK_FAILED with one of these reasons never ran `scale execute` to its end.
LAUNCH_REASONS = frozenset({"REASON_CONTAINER_LAUNCH_FAILED", "REASON_CONTAINER_PREEMPTED",
                            "REASON_EXECUTOR_REGISTRATION_TIMEOUT", "REASON_EXECUTOR_REREGISTRATION_TIMEOUT",
                            "REASON_TASK_INVALID", "REASON_TASK_UNAUTHORIZED"})


def error_for(state: str, reason: str | None = None) -> SystemErrorName:
    """The SYSTEM error that fails an execution still RUNNING when its task ends in `state`
    (docs/mesos.md has the table): a task never started is `task-launch`; one the agent lost,
    or that Mesos (not Scale) killed, is `node-lost`; an exit `scale execute` did not record
    is `unknown`."""
    if state in ("TASK_ERROR", "TASK_DROPPED"):
        return SystemErrorName.TASK_LAUNCH
    if state == "TASK_FAILED":
        return SystemErrorName.TASK_LAUNCH if reason in LAUNCH_REASONS else SystemErrorName.UNKNOWN
    if state == "TASK_FINISHED":
        return SystemErrorName.UNKNOWN
    return SystemErrorName.NODE_LOST


def task_id_of(job_exe_id: int) -> str:
    return f"{TASK_PREFIX}{job_exe_id}"


def job_exe_id_of(task_id: str) -> int | None:
    """The execution a task runs; None for a task that is not Scale's."""
    suffix = task_id.removeprefix(TASK_PREFIX)
    return int(suffix) if suffix != task_id and suffix.isdigit() else None


def offered_resources(offer: Mapping[str, Any]) -> Resources:
    """The scalar cpus, mem and disk of an offer (reserved and unreserved parts summed)."""
    amounts = {"cpus": 0.0, "mem": 0.0, "disk": 0.0}
    for resource in offer.get("resources", []):
        if resource.get("name") in amounts and resource.get("type", "SCALAR") == "SCALAR":
            amounts[resource["name"]] += float(resource["scalar"]["value"])
    return Resources(amounts["cpus"], amounts["mem"], amounts["disk"])


def scalar(name: str, value: float) -> dict[str, Any]:
    return {"name": name, "type": "SCALAR", "scalar": {"value": value}}
