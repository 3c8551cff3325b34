"""Nodes, node status, the scheduler and the system status in the reference's shapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.serialize.errors import error_detail
from api.serialize.job_types import job_type_base
from scale.models.jobs import JobExecution
from scale.models.nodes import Node, Scheduler
from scale.nodes.service import NodeResources, NodeStatus, SystemStatus
from scale.timeutil import to_iso

_NODE_FIELDS = ("id", "hostname", "port", "slave_id", "pause_reason", "is_paused",
                "is_paused_errors", "is_active")
_NODE_TIMES = ("archived", "created", "last_offer", "last_modified")
_EXE_TIMES = ("pre_started", "pre_completed", "job_started", "job_completed", "post_started",
              "post_completed", "created", "queued", "started", "ended", "last_modified")
_EXE_RESOURCES = ("cpus_scheduled", "mem_scheduled", "disk_in_scheduled", "disk_out_scheduled",
                  "disk_total_scheduled")


def node_base(node: Node) -> dict[str, Any]:
    return {**{name: getattr(node, name) for name in _NODE_FIELDS},
            **{name: to_iso(getattr(node, name)) for name in _NODE_TIMES}}


def resources(res: NodeResources) -> dict[str, Any]:
    return {"total": res.total.to_dict(), "scheduled": res.scheduled.to_dict(),
            "used": res.used.to_dict()}


def job_exe_running(exe: JobExecution) -> dict[str, Any]:
    """A running execution as in the reference's `job_exes_running` examples."""
    job = exe.job
    return {
        "id": exe.id, "status": exe.status, "command_arguments": exe.command_arguments,
        "timeout": exe.timeout, "pre_exit_code": exe.pre_exit_code,
        "job_exit_code": exe.job_exit_code, "post_exit_code": exe.post_exit_code,
        **{name: to_iso(getattr(exe, name)) for name in _EXE_TIMES},
        "job": {"id": job.id, "job_type": job_type_base(job.job_type),
                "job_type_rev": {"id": job.job_type_rev_id}, "event": {"id": job.event_id},
                "error": error_detail(job.error) if job.error else None, "status": job.status,
                "priority": job.priority, "num_exes": job.num_exes},
        "node": {"id": exe.node_id},
        "error": error_detail(exe.error) if exe.error else None,
        **{name: getattr(exe, name) for name in _EXE_RESOURCES},
    }


def node_detail(node: Node, res: NodeResources, running: Iterable[JobExecution]) -> dict[str, Any]:
    return {**node_base(node), "job_exes_running": [job_exe_running(e) for e in running],
            "resources": resources(res)}


def node_status(status: NodeStatus) -> dict[str, Any]:
    return {
        "node": node_base(status.node),
        "is_online": status.is_online,
        "job_exe_counts": [{"status": c.status, "count": c.count,
                            "most_recent": to_iso(c.most_recent), "category": c.category}
                           for c in status.job_exe_counts],
        "job_exes_running": [job_exe_running(e) for e in status.job_exes_running],
    }


def scheduler(sched: Scheduler) -> dict[str, Any]:
    return {"is_paused": sched.is_paused}


def system_status(status: SystemStatus) -> dict[str, Any]:
    return {
        "master": {"is_online": status.master_online, "hostname": status.master_hostname,
                   "port": status.master_port},
        # `leader` and `clock` are beyond the reference (docs/decisions.md): which scheduler
        # process leads, and whether a clock ticks.
        "scheduler": {"is_online": status.scheduler_online, "is_paused": status.scheduler_paused,
                      "hostname": status.scheduler_hostname, "leader": status.scheduler_leader},
        "clock": {"is_online": status.clock_online, "hostname": status.clock_hostname,
                  "last_fire": to_iso(status.clock_last_fire)},
        "queue_depth": status.queue_depth,
        "resources": resources(status.resources),
    }
