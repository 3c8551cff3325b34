"""The `mesos` manager's pure parts: the status-to-error table, task ids and offered resources
(the manager itself runs against a fake master in tests/integration/test_mesos.py)."""

from __future__ import annotations

import pytest

from scale.resources import Resources
from scale.scheduler.managers import MANAGERS
from scale.scheduler.managers.mesos_wire import error_for, job_exe_id_of, offered_resources, task_id_of


@pytest.mark.parametrize(("state", "reason", "error"), [
    ("TASK_LOST", None, "node-lost"),
    ("TASK_LOST", "REASON_RECONCILIATION", "node-lost"),
    ("TASK_UNREACHABLE", None, "node-lost"),
    ("TASK_GONE", None, "node-lost"),
    ("TASK_UNKNOWN", None, "node-lost"),
    ("TASK_KILLED", None, "node-lost"),
    ("TASK_ERROR", "REASON_TASK_INVALID", "task-launch"),
    ("TASK_DROPPED", "REASON_INVALID_OFFERS", "task-launch"),
    ("TASK_FAILED", "REASON_CONTAINER_LAUNCH_FAILED", "task-launch"),
    ("TASK_FAILED", None, "unknown"),
    ("TASK_FINISHED", None, "unknown"),
])
def test_error_for_each_terminal_state(state: str, reason: str | None, error: str):
    assert error_for(state, reason) == error


def test_task_ids_name_their_execution():
    assert job_exe_id_of(task_id_of(42)) == 42
    assert job_exe_id_of("other-framework-task") is None
    assert job_exe_id_of("scale-exe-x") is None


def test_offered_resources_sum_the_scalars_of_every_role():
    offer = {"resources": [
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 2}, "role": "*"},
        {"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.5}, "role": "scale"},
        {"name": "mem", "type": "SCALAR", "scalar": {"value": 1024}},
        {"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 32000}]}},
    ]}
    assert offered_resources(offer) == Resources(cpus=3.5, mem=1024, disk=0)


def test_mesos_is_a_registered_manager():
    assert set(MANAGERS) >= {"local", "mesos"}
