"""The metrics types of the reference's Metrics Services (`job-types`, `error-types`,
`ingest`): their filters, groups and columns, the choices of each, and the plot data
(`GET /metrics/{name}/plot-data/`) read from the daily rollups.

Plot data: every selected column (all, or those named by `column` and `group`) is one result.
With no `choice_id`, or exactly one, the values are one per date, aggregated across the choices
by the column's `aggregate` (sum, min, max; avg is the mean of the daily averages, rounded);
with several they are one per choice and date and carry the choice's `id`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scale.exceptions import NotFound
from scale.listing import Filter, ListQuery, ListSpec, parse_int
from scale.models.errors import Error
from scale.models.ingest import Strike
from scale.models.job_types import JobType
from scale.models.metrics import MetricsError, MetricsIngest, MetricsJobType


@dataclass(frozen=True)
class Group:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class Column:
    name: str
    title: str
    description: str
    units: str
    group: str
    aggregate: str


@dataclass(frozen=True)
class MetricsType:
    name: str
    title: str
    description: str
    filters: tuple[tuple[str, str], ...]  # (param, type)
    groups: tuple[Group, ...]
    columns: tuple[Column, ...]
    model: Any
    choice_model: Any
    choice_column: str
    choice_order: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


@dataclass(frozen=True)
class PlotValue:
    date: dt.date
    value: int | float
    id: int | None = None


@dataclass(frozen=True)
class PlotData:
    column: Column
    values: list[PlotValue]

    @property
    def min_x(self) -> dt.date | None:
        return min((v.date for v in self.values), default=None)

    @property
    def max_x(self) -> dt.date | None:
        return max((v.date for v in self.values), default=None)

    @property
    def min_y(self) -> int | float | None:
        return min((v.value for v in self.values), default=None)

    @property
    def max_y(self) -> int | float | None:
        return max((v.value for v in self.values), default=None)


def _count(name: str, title: str, description: str, group: str) -> Column:
    return Column(name, title, description, "count", group, "sum")


def _timed(prefix: str, title: str, what: str, units: str = "seconds") -> list[Column]:
    """The four columns of one timed group: `{prefix}_sum`, `_min`, `_max` and `_avg`."""
    words = {"sum": "Total", "min": "Minimum", "max": "Maximum", "avg": "Average"}
    return [Column(f"{prefix}_{kind}", f"{title} ({kind.capitalize()})", f"{words[kind]} {what}.", units, prefix,
                   kind) for kind in ("sum", "min", "max", "avg")]


JOB_TYPES = MetricsType(
    name="job-types", title="Job Types", description="Metrics for jobs and executions grouped by job type.",
    filters=(("name", "string"), ("version", "string")),
    groups=(Group("overview", "Overview", "Overall counts based on job status."),
            Group("errors", "Errors", "Overall error counts based on category."),
            Group("queue_time", "Queue Time", "When jobs were in the queue."),
            Group("pre_time", "Pre-task Time", "When jobs were being prepared."),
            Group("job_time", "Job Task Time", "When jobs were executing their actual goal."),
            Group("post_time", "Post-task Time", "When jobs were being cleaned up."),
            Group("run_time", "Run Time", "When related tasks were actually running (pre, job, post)."),
            Group("stage_time", "Stage Time", "Times related to the overhead of the system.")),
    columns=(_count("completed_count", "Completed Count", "Number of successfully completed jobs.", "overview"),
             _count("failed_count", "Failed Count", "Number of incomplete failed jobs.", "overview"),
             _count("canceled_count", "Canceled Count", "Number of incomplete canceled jobs.", "overview"),
             _count("total_count", "Total Count", "Number of completed, failed, and canceled jobs.", "overview"),
             _count("error_system_count", "System Error Count", "Number of failed jobs due to a system error.",
                    "errors"),
             _count("error_algorithm_count", "Algorithm Error Count",
                    "Number of failed jobs due to an algorithm error.", "errors"),
             _count("error_data_count", "Data Error Count", "Number of failed jobs due to a data error.", "errors"),
             *_timed("queue_time", "Queue Time", "time the job was queued"),
             *_timed("pre_time", "Pre-task Time", "time spent on the pre-task"),
             *_timed("job_time", "Job Task Time", "time spent on the job task"),
             *_timed("post_time", "Post-task Time", "time spent on the post-task"),
             *_timed("run_time", "Run Time", "time spent running the pre, job, and post tasks"),
             *_timed("stage_time", "Stage Time", "overhead time spent between the pre, job, and post tasks")),
    model=MetricsJobType, choice_model=JobType, choice_column="job_type_id", choice_order=("name", "version"),
)

ERROR_TYPES = MetricsType(
    name="error-types", title="Errors", description="Metrics for jobs grouped by errors.",
    filters=(("name", "string"), ("category", "string")),
    groups=(Group("overview", "Overview", "Overall counts based on error type."),),
    columns=(_count("total_count", "Total Count", "Number of jobs that failed with a particular error type.",
                    "overview"),),
    model=MetricsError, choice_model=Error, choice_column="error_id", choice_order=("name",),
)

INGEST = MetricsType(
    name="ingest", title="Ingest", description="Metrics for ingest jobs grouped by Strike process.",
    filters=(("name", "string"),),
    groups=(Group("overview", "Overview", "Overall counts based on ingest status."),
            Group("file_size", "File Size", "Size information about ingested files."),
            Group("transfer_time", "Transfer Time", "When files were being transferred before ingest."),
            Group("ingest_time", "Ingest Time", "When files were processed during ingest.")),
    columns=(_count("deferred_count", "Deferred Count", "Number of files deferred (ignored) by the ingest process.",
                    "overview"),
             _count("ingested_count", "Ingested Count", "Number of files successfully ingested.", "overview"),
             _count("errored_count", "Errored Count", "Number of files that failed to ingest.", "overview"),
             _count("duplicate_count", "Duplicate Count", "Number of files that were duplicates of previous ingests.",
                    "overview"),
             _count("total_count", "Total Count", "Number of deferred, ingested, errored, and duplicate ingests.",
                    "overview"),
             *_timed("file_size", "File Size", "size of ingested files", units="bytes"),
             *_timed("transfer_time", "Transfer Time", "time spent transferring files before ingest"),
             *_timed("ingest_time", "Ingest Time", "time spent processing files during ingest")),
    model=MetricsIngest, choice_model=Strike, choice_column="strike_id", choice_order=("name",),
)

METRICS_TYPES: dict[str, MetricsType] = {kind.name: kind for kind in (ERROR_TYPES, INGEST, JOB_TYPES)}


def get_metrics_type(name: str) -> MetricsType:
    kind = METRICS_TYPES.get(name)
    if kind is None:
        raise NotFound(f"there is no metrics type {name!r}; choose from {', '.join(METRICS_TYPES)}")
    return kind


def choices(session: Session, kind: MetricsType) -> list[Any]:
    """The job types, errors or Strikes whose metrics can be plotted."""
    model = kind.choice_model
    return list(session.scalars(select(model).order_by(*(getattr(model, name) for name in kind.choice_order),
                                                       model.id)))


def plot_spec(kind: MetricsType) -> ListSpec:
    """What plot-data accepts: the time range on `occurred`, `choice_id`, `column` and `group`."""
    return ListSpec(filters={"choice_id": Filter(getattr(kind.model, kind.choice_column), parse_int),
                             "column": Filter(None, choices=tuple(c.name for c in kind.columns)),
                             "group": Filter(None, choices=tuple(g.name for g in kind.groups))},
                    time_column=kind.model.occurred)


def plot_data(session: Session, kind: MetricsType, query: ListQuery) -> list[PlotData]:
    """Every selected column's values in the query's days (see the module docstring)."""
    model, choice = kind.model, getattr(kind.model, kind.choice_column)
    named_columns, named_groups = set(query.filters.get("column", ())), set(query.filters.get("group", ()))
    selected = [c for c in kind.columns
                if not (named_columns or named_groups) or c.name in named_columns or c.group in named_groups]
    choice_ids: Sequence[int] = query.filters.get("choice_id", ())
    stmt = select(model).order_by(model.occurred, choice)
    if query.started is not None:
        stmt = stmt.where(model.occurred >= query.started.date())
    if query.ended is not None:
        stmt = stmt.where(model.occurred <= query.ended.date())
    if choice_ids:
        stmt = stmt.where(choice.in_(choice_ids))
    rows: list[Any] = list(session.scalars(stmt))
    per_choice = len(set(choice_ids)) > 1
    return [PlotData(column, _values(rows, column, kind.choice_column, per_choice)) for column in selected]


def _values(rows: Sequence[Any], column: Column, choice_column: str, per_choice: bool) -> list[PlotValue]:
    if per_choice:
        return [PlotValue(row.occurred, value, getattr(row, choice_column)) for row in rows
                if (value := getattr(row, column.name)) is not None]
    by_day: dict[dt.date, list[int]] = defaultdict(list)
    for row in rows:
        if (value := getattr(row, column.name)) is not None:
            by_day[row.occurred].append(value)
    return [PlotValue(day, _aggregate(column.aggregate, values)) for day, values in sorted(by_day.items())]


def _aggregate(aggregate: str, values: list[int]) -> int:
    if aggregate == "min":
        return min(values)
    if aggregate == "max":
        return max(values)
    if aggregate == "avg":
        return round(sum(values) / len(values))
    return sum(values)
