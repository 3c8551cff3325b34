"""Evaluating ingest and parse trigger rules for a source file (reference: Triggers).

`evaluate_triggers` is what the `scale.evaluate_triggers` task runs. For every rule of the
event's kind that is active, not archived and attached to an active, unpaused job type or an
active recipe type, and whose condition the file meets, it records a TriggerEvent (type, rule,
source file) and creates the job (queued) or the recipe, which point at the event. See
docs/triggers.md for the decisions.

Idempotency: the source file's row is locked first, so evaluations of one file run one after the
other; a rule that already has an event for the file is skipped; and the unique index on
(rule_id, source_file_id) is the backstop: a duplicate insert rolls back that rule's savepoint
and counts as already fired.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.errors import InvalidTransition, ValidationError
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobStatus
from scale.models.recipes import RecipeType
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.models.workspaces import Workspace
from scale.queue import transitions
from scale.recipes import service as recipes
from scale.specs import ingest_trigger, job_data, job_interface
from scale.specs.ingest_trigger import FileTriggerConfiguration
from scale.timeutil import as_utc, to_iso, utcnow

logger = logging.getLogger(__name__)

KINDS = (TriggerRuleType.INGEST.value, TriggerRuleType.PARSE.value)
# A parsed source file whose parse rules were never evaluated, or evaluated before it was (re)parsed.
_PARSE_DUE = (ScaleFile.file_type == ScaleFileType.SOURCE, ScaleFile.is_parsed, ScaleFile.parsed.is_not(None),
              or_(ScaleFile.parse_triggered.is_(None), ScaleFile.parse_triggered < ScaleFile.parsed))


@dataclass(frozen=True)
class _Candidate:
    """A rule whose condition the file meets, and the job type or recipe type it creates."""

    rule: TriggerRule
    configuration: FileTriggerConfiguration
    job_type: JobType | None = None
    recipe_type: RecipeType | None = None

    @property
    def target(self) -> str:
        owner: Any = self.job_type if self.job_type is not None else self.recipe_type
        kind = "job type" if self.job_type is not None else "recipe type"
        return f"{kind} {owner.name} {owner.version}"


def evaluate_triggers(session: Session, kind: str, source_file_id: int) -> list[TriggerEvent]:
    """Fire the `kind` ("INGEST" or "PARSE") rules that the source file meets and that have not
    fired for it yet; returns the events recorded now (empty when there was nothing to do).

    Locks the file's row. An INGEST evaluation needs an INGESTED ingest of the file and a PARSE
    one a parsed file; otherwise nothing is written. Afterwards the file's ingests get
    `triggered` (INGEST) or the file gets `parse_triggered` (PARSE), so the sweep leaves it
    alone. A rule whose job or recipe cannot be made for this file (its workspace is missing or
    archived, its input does not accept the file...) records nothing and is logged."""
    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not a file trigger type ({', '.join(KINDS)})")
    source = session.scalars(select(ScaleFile).where(ScaleFile.id == source_file_id,
                                                     ScaleFile.file_type == ScaleFileType.SOURCE)
                             .with_for_update()).one_or_none()
    if source is None:
        logger.warning("evaluate_triggers: there is no source file %s", source_file_id)
        return []
    now = utcnow()
    description: dict[str, Any] = {"source_file_id": source.id, "file_name": source.file_name}
    if kind == TriggerRuleType.INGEST:
        ingest_ids = list(session.scalars(select(Ingest.id).where(
            Ingest.source_file_id == source.id, Ingest.status == IngestStatus.INGESTED).order_by(Ingest.id)))
        if not ingest_ids:
            logger.warning("evaluate_triggers: source file %s has no INGESTED ingest", source.id)
            return []
        description["ingest_id"] = ingest_ids[0]
    else:
        if not source.is_parsed or source.parsed is None:
            logger.warning("evaluate_triggers: source file %s has not been parsed", source.id)
            return []
        description["parsed"] = to_iso(source.parsed)
    events = [] if source.is_deleted else _fire(session, kind, source, description, now)
    if kind == TriggerRuleType.INGEST:
        session.execute(update(Ingest).where(Ingest.id.in_(ingest_ids)).values(triggered=now)
                        .execution_options(synchronize_session=False))
    else:
        # `parsed` may come from a node whose clock runs ahead; the file must not stay due.
        source.parse_triggered = max(now, as_utc(source.parsed or now))
    session.flush()
    return events


def files_needing_evaluation(session: Session, *, limit: int = 1000) -> dict[str, list[int]]:
    """Source file ids whose evaluation is due, by kind, for the sweep that re-sends lost
    evaluations: files of INGESTED ingests never `triggered`, and parsed source files whose
    `parse_triggered` is null or older than `parsed`. At most `limit` of each, oldest first."""
    ingested = session.scalars(
        select(Ingest.source_file_id).where(Ingest.status == IngestStatus.INGESTED, Ingest.triggered.is_(None),
                                            Ingest.source_file_id.is_not(None))
        .group_by(Ingest.source_file_id).order_by(Ingest.source_file_id).limit(limit))
    parsed = session.scalars(
        select(ScaleFile.id).where(*_PARSE_DUE).order_by(ScaleFile.id).limit(limit))
    return {TriggerRuleType.INGEST.value: [i for i in ingested if i is not None],
            TriggerRuleType.PARSE.value: list(parsed)}


def parsed_files_due(session: Session, job_id: int) -> list[int]:
    """The job's input files that are parsed and whose parse rules are due (the files a job
    that recorded parse results has just parsed): what to send PARSE evaluations for."""
    job = session.get(Job, job_id)
    if job is None:
        return []
    file_ids = job_data.parse(job.data).file_ids()
    if not file_ids:
        return []
    return list(session.scalars(
        select(ScaleFile.id).where(ScaleFile.id.in_(file_ids), *_PARSE_DUE).order_by(ScaleFile.id)))


def _fire(session: Session, kind: str, source: ScaleFile, description: dict[str, Any],
          now: Any) -> list[TriggerEvent]:
    candidates = _candidates(session, kind, source)
    if not candidates:
        return []
    fired = set(session.scalars(select(TriggerEvent.rule_id).where(
        TriggerEvent.source_file_id == source.id, TriggerEvent.rule_id.in_([c.rule.id for c in candidates]))))
    pending = [c for c in candidates if c.rule.id not in fired]
    if not pending:
        return []
    workspaces = {w.name: w for w in session.scalars(select(Workspace).where(
        Workspace.name.in_({c.configuration.workspace_name for c in pending})))}
    revisions = _current_revisions(session, [c.job_type for c in pending if c.job_type is not None])
    events = []
    for candidate in pending:
        workspace = workspaces.get(candidate.configuration.workspace_name)
        try:
            if workspace is None or not workspace.is_active:
                raise ValidationError("data.workspace_name", f"workspace {candidate.configuration.workspace_name!r} "
                                                             "does not exist or is not active")
            event = _fire_rule(session, kind, candidate, source, workspace, revisions, description, now)
        except (ValidationError, InvalidTransition) as error:
            logger.warning("trigger rule %s (%s) did not fire for source file %s: %s",
                           candidate.rule.id, candidate.target, source.id, error)
            continue
        if event is not None:
            events.append(event)
    return events


def _candidates(session: Session, kind: str, source: ScaleFile) -> list[_Candidate]:
    """The active rules of `kind` on active, unpaused job types and active recipe types whose
    condition `source` meets, in rule id order. Two queries, however many rules there are."""
    live = (TriggerRule.type == kind, TriggerRule.is_active, TriggerRule.archived.is_(None))
    rows: list[tuple[TriggerRule, JobType | None, RecipeType | None]] = [
        (rule, job_type, None) for rule, job_type in session.execute(
            select(TriggerRule, JobType).join(JobType, JobType.trigger_rule_id == TriggerRule.id)
            .where(*live, JobType.is_active, JobType.is_paused.is_(False)))]
    rows += [(rule, None, recipe_type) for rule, recipe_type in session.execute(
        select(TriggerRule, RecipeType).join(RecipeType, RecipeType.trigger_rule_id == TriggerRule.id)
        .where(*live, RecipeType.is_active))]
    candidates = []
    for rule, job_type, recipe_type in sorted(rows, key=lambda row: row[0].id):
        configuration = ingest_trigger.parse(rule.configuration)
        if configuration.matches(source.media_type, source.data_type or ()):
            candidates.append(_Candidate(rule, configuration, job_type, recipe_type))
    return candidates


def _current_revisions(session: Session, job_types: Sequence[JobType]) -> dict[int, JobTypeRevision]:
    wanted = {t.id: t.revision_num for t in job_types}
    if not wanted:
        return {}
    rows = session.scalars(select(JobTypeRevision).where(JobTypeRevision.job_type_id.in_(wanted)))
    return {r.job_type_id: r for r in rows if wanted[r.job_type_id] == r.revision_num}


def _fire_rule(session: Session, kind: str, candidate: _Candidate, source: ScaleFile, workspace: Workspace,
               revisions: dict[int, JobTypeRevision], description: dict[str, Any], now: Any) -> TriggerEvent | None:
    """Record the rule's event and create its job or recipe, all in one savepoint; None when
    the event already exists (another evaluation got there first)."""
    input_name = candidate.configuration.input_data_name
    event = TriggerEvent(type=kind, rule_id=candidate.rule.id, source_file_id=source.id,
                         description=description, occurred=now)
    try:
        with session.begin_nested():
            if candidate.recipe_type is not None:
                doc = {"input_data": [{"name": input_name, "file_id": source.id}], "workspace_id": workspace.id}
                data = recipes.validate_recipe_data(session, candidate.recipe_type, doc)
                session.add(event)
                session.flush()
                recipes.create_recipe(session, candidate.recipe_type, data, event)
            else:
                assert candidate.job_type is not None
                job = _new_job(candidate.job_type, revisions[candidate.job_type.id], source, input_name,
                               workspace, event, now)
                session.add(event)
                session.flush()
                transitions.queue_job(session, job)
    except IntegrityError:
        logger.info("trigger rule %s already fired for source file %s", candidate.rule.id, source.id)
        return None
    return event


def _new_job(job_type: JobType, revision: JobTypeRevision, source: ScaleFile, input_name: str,
             workspace: Workspace, event: TriggerEvent, now: Any) -> Job:
    """A PENDING job of `job_type` with `source` as input `input_name` and every output to
    `workspace`; ValidationError when the interface does not take the file there."""
    interface = job_interface.parse(revision.interface)
    data = job_data.parse({"input_data": [{"name": input_name, "file_id": source.id}],
                           "output_data": [{"name": o.name, "workspace_id": workspace.id} for o in interface.outputs]})
    job_data.validate_against(data, interface)
    spec = interface.get_input(input_name)
    assert spec is not None  # validate_against checked the name
    if spec.media_types and source.media_type not in spec.media_types:
        raise ValidationError("data.input_data_name", f"input {input_name!r} accepts {', '.join(spec.media_types)}, "
                                                      f"not {source.media_type}")
    return Job(job_type_id=job_type.id, job_type_rev_id=revision.id, event=event, status=JobStatus.PENDING,
               priority=job_type.priority, timeout=job_type.timeout, max_tries=job_type.max_tries,
               cpus_required=job_type.cpus_required, mem_required=job_type.mem_required, data=data.to_dict(),
               num_exes=0, created=now, last_modified=now, last_status_change=now)

