"""Jobs and job executions in the reference's shapes ("Job Services", "Job Execution
Services"): list entries, details and the nested `{id}` references. Files (inputs, products)
are shaped by `api.serialize.products`, their one serializer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.serialize.errors import error_detail
from api.serialize.job_types import job_type_base, job_type_summary
from api.serialize.products import product_summary, scale_file_base
from scale.models.errors import Error
from scale.models.files import ScaleFile
from scale.models.jobs import Job, JobExecution
from scale.models.nodes import Node
from scale.models.recipes import Recipe
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.queue.service import JobDetails
from scale.scheduler.why import QueuedReason, ReasonCode
from scale.timeutil import to_iso

_JOB_VALUES = ("id", "status", "priority", "num_exes", "timeout", "max_tries", "cpus_required", "mem_required",
               "disk_in_required", "disk_out_required")
_JOB_TIMES = ("created", "queued", "started", "ended", "last_status_change", "last_modified")
_EXE_VALUES = ("id", "status", "command_arguments", "timeout", "pre_exit_code", "job_exit_code", "post_exit_code")
_EXE_TIMES = ("pre_started", "pre_completed", "job_started", "job_completed", "post_started", "post_completed",
              "created", "queued", "started", "ended", "last_modified")
_SCHEDULED = ("cpus_scheduled", "mem_scheduled", "disk_in_scheduled", "disk_out_scheduled", "disk_total_scheduled")


def _ref(row: TriggerRule | Node | None) -> dict[str, Any] | None:
    return None if row is None else {"id": row.id}


def _error(error: Error | None) -> dict[str, Any] | None:
    return None if error is None else error_detail(error)


def trigger_event(event: TriggerEvent, *, full_rule: bool = True) -> dict[str, Any]:
    rule = event.rule
    if rule is not None and full_rule:
        rule_doc: dict[str, Any] | None = {
            "id": rule.id, "type": rule.type, "is_active": rule.is_active, "created": to_iso(rule.created),
            "archived": to_iso(rule.archived), "last_modified": to_iso(rule.last_modified)}
    else:
        rule_doc = _ref(rule)
    return {"id": event.id, "type": event.type, "rule": rule_doc, "occurred": to_iso(event.occurred),
            "description": event.description}


def job_summary(job: Job) -> dict[str, Any]:
    """A job as the job lists show it."""
    return {
        "id": job.id,
        "job_type": job_type_base(job.job_type),
        "job_type_rev": {"id": job.job_type_rev.id, "job_type": {"id": job.job_type_id},
                         "revision_num": job.job_type_rev.revision_num},
        "event": trigger_event(job.event, full_rule=False),
        "error": _error(job.error),
        **{name: getattr(job, name) for name in _JOB_VALUES[1:]},
        **{name: to_iso(getattr(job, name)) for name in _JOB_TIMES},
    }


# The JSON schema of `queued_reason`'s fields, for the OpenAPI document.
QUEUED_REASON_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["queued_reason", "queued_reason_code", "can_never_fit"],
    "properties": {
        "queued_reason": {"type": "string", "x-nullable": True,
                          "description": "Why a QUEUED job is not running yet; null unless QUEUED"},
        "queued_reason_code": {"type": "string", "enum": [code.value for code in ReasonCode], "x-nullable": True,
                               "description": "The reason's code; null unless QUEUED"},
        "can_never_fit": {"type": "boolean",
                          "description": "True when the QUEUED job is larger than every online node (TOO_LARGE)"},
    }}


def queued_reason(reason: QueuedReason | None) -> dict[str, Any]:
    """Beyond the reference (docs/decisions.md): why a QUEUED job is not running yet; null
    (and `can_never_fit` false) for a job that is not queued."""
    return {"queued_reason": None if reason is None else reason.message,
            "queued_reason_code": None if reason is None else reason.code.value,
            "can_never_fit": reason is not None and reason.can_never_fit}


def job_in_list(job: Job, reason: QueuedReason | None) -> dict[str, Any]:
    """A job as the job lists show it, with why it is queued."""
    return {**job_summary(job), **queued_reason(reason)}


def job_with_input_files(job: Job, files: list[ScaleFile], reason: QueuedReason | None) -> dict[str, Any]:
    return {**job_in_list(job, reason), "input_files": [scale_file_base(f) for f in files]}


def job_with_latest_execution(job: Job, exe: JobExecution | None, reason: QueuedReason | None) -> dict[str, Any]:
    return {**job_in_list(job, reason), "latest_job_exe": None if exe is None else execution_base(exe)}


def job_details(details: JobDetails, reason: QueuedReason | None) -> dict[str, Any]:
    job = details.job
    rev = job.job_type_rev

    def product(scale_file: ScaleFile) -> dict[str, Any]:
        return product_summary(scale_file, job.job_type)  # the job made its products

    return {
        **job_summary(job),
        "job_type": job_type_summary(job.job_type),
        "job_type_rev": {"id": rev.id, "job_type": {"id": rev.job_type_id}, "revision_num": rev.revision_num,
                         "interface": rev.interface, "created": to_iso(rev.created)},
        "event": trigger_event(job.event),
        "data": job.data,
        "results": job.results,
        "recipes": [_job_recipe(r) for r in details.recipes],
        "job_exes": [execution_base(exe) for exe in job.job_exes],
        "inputs": [{"name": spec.name, "type": spec.type, "value": _value(value, scale_file_base)}
                   for spec, value in details.inputs],
        "outputs": [{"name": spec.name, "type": spec.type, "value": _value(value, product)}
                    for spec, value in details.outputs],
        "input_files": [scale_file_base(f) for f in details.input_files],
        "products": [product(f) for f in details.products],
        **queued_reason(reason),
    }


def _value(value: Any, serialize: Callable[[ScaleFile], dict[str, Any]]) -> Any:
    if isinstance(value, list):
        return [serialize(item) for item in value if item is not None]
    if value is None or isinstance(value, str):
        return value
    return serialize(value)


def _job_recipe(recipe: Recipe) -> dict[str, Any]:
    """A recipe as a job's details show it. Not `api.serialize.recipes.recipe_summary`, which
    imports this module; the shapes differ slightly (the reference's job example has no
    `recipe_type_rev`)."""
    recipe_type = recipe.recipe_type
    return {
        "id": recipe.id,
        "recipe_type": {"id": recipe_type.id, "name": recipe_type.name, "version": recipe_type.version,
                        "description": recipe_type.description},
        "event": {"id": recipe.event.id, "type": recipe.event.type, "rule": _ref(recipe.event.rule),
                  "occurred": to_iso(recipe.event.occurred)},
        "created": to_iso(recipe.created), "completed": to_iso(recipe.completed),
        "last_modified": to_iso(recipe.last_modified),
    }


def execution_base(exe: JobExecution) -> dict[str, Any]:
    """An execution inside a job's details: its own fields and `{id}` references."""
    return {
        **{name: getattr(exe, name) for name in _EXE_VALUES},
        **{name: to_iso(getattr(exe, name)) for name in _EXE_TIMES},
        "job": {"id": exe.job_id}, "node": _ref(exe.node), "error": _error(exe.error),
    }


def _job_of_execution(job: Job) -> dict[str, Any]:
    return {"id": job.id, "job_type": job_type_base(job.job_type), "job_type_rev": {"id": job.job_type_rev_id},
            "event": {"id": job.event_id}, "error": _error(job.error), "status": job.status,
            "priority": job.priority, "num_exes": job.num_exes}


def _node_base(node: Node) -> dict[str, Any]:
    return {"id": node.id, "hostname": node.hostname, "port": node.port, "slave_id": node.slave_id}


def execution_summary(exe: JobExecution) -> dict[str, Any]:
    """An execution as the execution list shows it."""
    return {**execution_base(exe), "job": _job_of_execution(exe.job),
            "node": None if exe.node is None else _node_base(exe.node)}


def execution_details(exe: JobExecution, *, stdout_url: str | None, stderr_url: str | None) -> dict[str, Any]:
    node = exe.node
    return {
        **execution_summary(exe),
        "node": None if node is None else {
            **_node_base(node), "is_paused": node.is_paused, "is_active": node.is_active,
            "archived": to_iso(node.archived), "created": to_iso(node.created),
            "last_modified": to_iso(node.last_modified)},
        "environment": exe.environment,
        **{name: getattr(exe, name) for name in _SCHEDULED},
        "results": exe.results, "current_stdout_url": stdout_url, "current_stderr_url": stderr_url,
        "results_manifest": exe.results_manifest,
    }


def execution_logs(exe: JobExecution, stdout: str, stderr: str) -> dict[str, Any]:
    finished = exe.status in ("COMPLETED", "FAILED", "CANCELED")
    return {**execution_summary(exe), "is_finished": finished, "stdout": stdout, "stderr": stderr}
