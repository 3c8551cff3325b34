"""Every Scale model. Importing this package completes `scale.db.Base.metadata`."""

from scale.models.errors import AlgorithmErrorName, Error, ErrorCategory, SystemErrorName
from scale.models.files import FileAncestryLink, ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.models.metrics import (
    JobLoad,
    MetricsError,
    MetricsIngest,
    MetricsJobType,
    QueueDepthByJobType,
    QueueDepthByPriority,
)
from scale.models.nodes import SCHEDULER_ID, Leadership, Node, Scheduler
from scale.models.recipes import Recipe, RecipeJob, RecipeType, RecipeTypeRevision
from scale.models.tokens import ApiToken
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.models.types import GeometryColumn
from scale.models.workspaces import Workspace

__all__ = [
    "AlgorithmErrorName",
    "ApiToken",
    "Error",
    "ErrorCategory",
    "FileAncestryLink",
    "GeometryColumn",
    "Ingest",
    "IngestStatus",
    "Job",
    "JobExecution",
    "JobExecutionStatus",
    "JobLoad",
    "JobStatus",
    "JobType",
    "JobTypeRevision",
    "Leadership",
    "MetricsError",
    "MetricsIngest",
    "MetricsJobType",
    "Node",
    "Queue",
    "QueueDepthByJobType",
    "QueueDepthByPriority",
    "Recipe",
    "RecipeJob",
    "RecipeType",
    "RecipeTypeRevision",
    "SCHEDULER_ID",
    "ScaleFile",
    "ScaleFileType",
    "Scheduler",
    "Strike",
    "SystemErrorName",
    "TriggerEvent",
    "TriggerRule",
    "TriggerRuleType",
    "Workspace",
]
