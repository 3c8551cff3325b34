"""`scale node`: one node of the celery resource manager, in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
from dataclasses import replace

from scale.resources import Resources
from scale.scheduler.managers.local import machine_resources
from scale.settings import Settings


def run_node_process(settings: Settings, *, name: str, cpus: float | None, mem: float | None,
                     disk: float | None) -> int:
    """Run node `name`; resources not given are this machine's (all cpus, all RAM, the disk
    free under the work root). Returns the process exit code."""
    from workers.node import run_node

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    detected = machine_resources(settings.work_root)
    total = Resources(cpus=detected.cpus if cpus is None else cpus, mem=detected.mem if mem is None else mem,
                      disk=detected.disk if disk is None else disk)
    return run_node(replace(settings, node_name=name), name=name, total=total)
