"""What `GET /metrics` (Prometheus) exposes, read from the database at scrape time, so every
web process answers the same. The web shell turns these families into the text exposition
format; counters get Prometheus's `_total` suffix there.

* `scale_queue_depth{job_type,version}`: executions waiting in the queue.
* `scale_jobs_running{job_type,version}`: RUNNING jobs.
* `scale_node_cpus`, `scale_node_memory_mebibytes`, `scale_node_disk_mebibytes` `{node,state}`:
  each active node's `total` and what RUNNING executions have `scheduled` on it.
* `scale_job_executions_total{job_type,version,status}`: executions that ended COMPLETED or FAILED.
* `scale_ingests_total{strike,status}`: ingests of each Strike by status."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scale.models.ingest import Ingest, Strike
from scale.models.job_types import JobType
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.models.nodes import Node
from scale.nodes.service import node_total, scheduled_by_node


@dataclass(frozen=True)
class Family:
    name: str
    documentation: str
    kind: str  # "gauge" or "counter"
    labels: tuple[str, ...]
    samples: list[tuple[tuple[str, ...], float]]


def _samples(session: Session, stmt) -> list[tuple[tuple[str, ...], float]]:
    """(labels, value) of rows whose last column is the value."""
    return [(tuple(str(label) for label in row[:-1]), float(row[-1])) for row in session.execute(stmt)]


def current_families(session: Session) -> list[Family]:
    """Every family, with what the database holds now."""
    queued = (select(JobType.name, JobType.version, func.count(Queue.id))
              .join(Queue, Queue.job_type_id == JobType.id).group_by(JobType.name, JobType.version)
              .order_by(JobType.name, JobType.version))
    running = (select(JobType.name, JobType.version, func.count(Job.id))
               .join(Job, Job.job_type_id == JobType.id).where(Job.status == JobStatus.RUNNING)
               .group_by(JobType.name, JobType.version).order_by(JobType.name, JobType.version))
    ended = (select(JobType.name, JobType.version, JobExecution.status, func.count(JobExecution.id))
             .join(Job, Job.job_type_id == JobType.id).join(JobExecution, JobExecution.job_id == Job.id)
             .where(JobExecution.status.in_((JobExecutionStatus.COMPLETED, JobExecutionStatus.FAILED)))
             .group_by(JobType.name, JobType.version, JobExecution.status)
             .order_by(JobType.name, JobType.version, JobExecution.status))
    ingests = (select(Strike.name, Ingest.status, func.count(Ingest.id)).join(Ingest, Ingest.strike_id == Strike.id)
               .group_by(Strike.name, Ingest.status).order_by(Strike.name, Ingest.status))
    nodes = session.scalars(select(Node).where(Node.is_active).order_by(Node.hostname)).all()
    scheduled = scheduled_by_node(session)
    resources: dict[str, list[tuple[tuple[str, ...], float]]] = {"cpus": [], "mem": [], "disk": []}
    for node in nodes:
        total, used = node_total(node), scheduled.get(node.id)
        for resource in resources:
            resources[resource].append(((node.hostname, "total"), getattr(total, resource)))
            resources[resource].append(((node.hostname, "scheduled"), getattr(used, resource) if used else 0.0))
    node_labels = ("node", "state")
    return [
        Family("scale_queue_depth", "Job executions waiting in the queue.", "gauge", ("job_type", "version"),
               _samples(session, queued)),
        Family("scale_jobs_running", "Jobs that are RUNNING.", "gauge", ("job_type", "version"),
               _samples(session, running)),
        Family("scale_node_cpus", "CPUs of each active node: its total, and what running executions hold.",
               "gauge", node_labels, resources["cpus"]),
        Family("scale_node_memory_mebibytes", "Memory (MiB) of each active node.", "gauge", node_labels,
               resources["mem"]),
        Family("scale_node_disk_mebibytes", "Disk (MiB) of each active node.", "gauge", node_labels,
               resources["disk"]),
        Family("scale_job_executions", "Job executions that ended, by final status.", "counter",
               ("job_type", "version", "status"), _samples(session, ended)),
        Family("scale_ingests", "Ingests of each Strike process, by status.", "counter", ("strike", "status"),
               _samples(session, ingests)),
    ]
