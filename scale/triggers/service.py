"""Evaluating ingest and parse trigger rules for source files (reference: Triggers).

`evaluate_triggers_many` is what the `scale.evaluate_triggers` task runs, for a batch of source
files; `evaluate_triggers` is its one-file form. For every rule of the event's kind that is
active, not archived and attached to an active job type (paused or not) or an active recipe type,
and whose condition a file meets, it records a TriggerEvent (type, rule, source file) and
creates the job (queued) or the recipe, which point at the event. See docs/triggers.md for the
decisions.

Set-based: a batch costs a fixed handful of statements however many files and job-type rules
fire (lock, ingests, rules, fired pairs, workspaces, revisions, then one INSERT of the events,
one of the jobs and the queueing); a recipe-type rule still creates its recipe per file.

Idempotency: the batch's source file rows are locked first, in id order, so evaluations of one
file run one after the other (and two overlapping batches cannot deadlock); a (rule, file) pair
that already has an event is skipped; and the unique index on (rule_id, source_file_id) is the
backstop: a duplicate insert rolls back the batch's savepoint, and the batch's job-type pairs
are fired again one at a time, each in its own savepoint, where the duplicate counts as
already fired.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scale.exceptions import InvalidTransition, ValidationError
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job
from scale.models.recipes import RecipeType
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.models.workspaces import Workspace
from scale.queue import transitions
from scale.queue.factory import new_job
from scale.recipes import service as recipes
from scale.specs import ingest_trigger, job_data, job_interface
from scale.specs._inputs import DataInput
from scale.specs.ingest_trigger import FileTriggerConfiguration
from scale.specs.job_data import DataOutput
from scale.specs.recipe_data import RecipeData
from scale.timeutil import as_utc, to_iso, utcnow

logger = logging.getLogger(__name__)

# A job type's current revision and its parsed interface, by job type id.
_Revisions = dict[int, tuple[JobTypeRevision, job_interface.JobInterface]]
KINDS = (TriggerRuleType.INGEST.value, TriggerRuleType.PARSE.value)
# A parsed source file whose parse rules were never evaluated, or evaluated before it was (re)parsed.
_PARSE_DUE = (ScaleFile.file_type == ScaleFileType.SOURCE, ScaleFile.is_parsed, ScaleFile.parsed.is_not(None),
              or_(ScaleFile.parse_triggered.is_(None), ScaleFile.parse_triggered < ScaleFile.parsed))


@dataclass(frozen=True)
class _Candidate:
    """A live rule of the evaluated kind, and the job type or recipe type it creates."""

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
    """`evaluate_triggers_many` for one source file."""
    return evaluate_triggers_many(session, kind, [source_file_id])


def evaluate_triggers_many(session: Session, kind: str, source_file_ids: Iterable[int]) -> list[TriggerEvent]:
    """Fire the `kind` ("INGEST" or "PARSE") rules that each source file meets and that have not
    fired for it yet; returns the events recorded now, by file then rule (empty when there was
    nothing to do).

    Locks the files' rows, in id order. An INGEST evaluation needs an INGESTED ingest of the
    file and a PARSE one a parsed file; otherwise nothing is written for that file. Afterwards
    the files' ingests get `triggered` (INGEST) or the files get `parse_triggered` (PARSE), so
    the sweep leaves them alone. A rule whose job or recipe cannot be made for a file (its
    workspace is missing or archived, its input does not accept the file...) records nothing
    for it and is logged."""
    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not a file trigger type ({', '.join(KINDS)})")
    ids = sorted(set(source_file_ids))
    sources = list(session.scalars(select(ScaleFile).where(ScaleFile.id.in_(ids),
                                                           ScaleFile.file_type == ScaleFileType.SOURCE)
                                   .order_by(ScaleFile.id).with_for_update())) if ids else []
    for missing in sorted(set(ids) - {source.id for source in sources}):
        logger.warning("evaluate_triggers: there is no source file %s", missing)
    if not sources:
        return []
    now = utcnow()
    descriptions, ingest_ids = _descriptions(session, kind, sources)
    due = [source for source in sources if source.id in descriptions]
    if not due:
        return []
    events = _fire(session, kind, [source for source in due if not source.is_deleted], descriptions, now)
    if kind == TriggerRuleType.INGEST:
        session.execute(update(Ingest).where(Ingest.id.in_(ingest_ids)).values(triggered=now)
                        .execution_options(synchronize_session=False))
    else:
        for source in due:
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


def _descriptions(session: Session, kind: str,
                  sources: Sequence[ScaleFile]) -> tuple[dict[int, dict[str, Any]], list[int]]:
    """The event description of each source file whose evaluation can happen (INGEST: it has an
    INGESTED ingest, one query for all; PARSE: it is parsed), by file id, and the ids of those
    INGESTED ingests, which the evaluation marks `triggered`."""
    descriptions: dict[int, dict[str, Any]] = {}
    ingest_ids: list[int] = []
    if kind == TriggerRuleType.INGEST:
        ingests: dict[int | None, list[int]] = {}
        for file_id, ingest_id in session.execute(select(Ingest.source_file_id, Ingest.id).where(
                Ingest.source_file_id.in_([source.id for source in sources]),
                Ingest.status == IngestStatus.INGESTED).order_by(Ingest.id)):
            ingests.setdefault(file_id, []).append(ingest_id)
        for source in sources:
            if source.id not in ingests:
                logger.warning("evaluate_triggers: source file %s has no INGESTED ingest", source.id)
                continue
            ingest_ids += ingests[source.id]
            descriptions[source.id] = {"source_file_id": source.id, "file_name": source.file_name,
                                       "ingest_id": ingests[source.id][0]}
        return descriptions, ingest_ids
    for source in sources:
        if not source.is_parsed or source.parsed is None:
            logger.warning("evaluate_triggers: source file %s has not been parsed", source.id)
            continue
        descriptions[source.id] = {"source_file_id": source.id, "file_name": source.file_name,
                                   "parsed": to_iso(source.parsed)}
    return descriptions, ingest_ids


def _fire(session: Session, kind: str, sources: Sequence[ScaleFile], descriptions: dict[int, dict[str, Any]],
          now: Any) -> list[TriggerEvent]:
    """Fire every (rule, file) pair whose condition the file meets and that has no event yet:
    the job-type pairs together (`_fire_jobs`), each recipe-type pair on its own."""
    if not sources:
        return []
    rules = _live_rules(session, kind)
    pairs = [(candidate, source) for source in sources for candidate in rules
             if candidate.configuration.matches(source.media_type, source.data_type or ())]
    if not pairs:
        return []
    fired = _fired_pairs(session, pairs)
    pending = [(candidate, source) for candidate, source in pairs if (candidate.rule.id, source.id) not in fired]
    if not pending:
        return []
    workspaces = {w.name: w for w in session.scalars(select(Workspace).where(
        Workspace.name.in_({candidate.configuration.workspace_name for candidate, _ in pending})))}
    revisions = _current_revisions(session, [c.job_type for c, _ in pending if c.job_type is not None])
    job_firings: list[_Firing] = []
    recipes_due: list[_Firing] = []
    for candidate, source in pending:
        workspace = workspaces.get(candidate.configuration.workspace_name)
        try:
            if workspace is None or not workspace.is_active:
                raise ValidationError("data.workspace_name", f"workspace {candidate.configuration.workspace_name!r} "
                                                             "does not exist or is not active")
            firing = _Firing(candidate, source, workspace, descriptions[source.id])
            if candidate.job_type is None:
                recipes_due.append(firing)
                continue
            job_firings.append(replace(firing, job=_new_job(firing, revisions, firing.event(kind, now), now)))
        except ValidationError as error:
            _not_fired(candidate, source, error)
    events = _fire_jobs(session, kind, job_firings, revisions, now)
    for firing in recipes_due:
        try:
            event = _fire_rule(session, kind, firing, revisions, now)
        except (ValidationError, InvalidTransition) as error:
            _not_fired(firing.candidate, firing.source, error)
            continue
        if event is not None:
            events.append(event)
    return sorted(events, key=lambda event: (event.source_file_id or 0, event.rule_id or 0))


@dataclass(frozen=True)
class _Firing:
    """A (rule, file) pair about to fire: where its outputs go, its event's description and,
    for a job-type rule, the job it creates (not yet in the session)."""

    candidate: _Candidate
    source: ScaleFile
    workspace: Workspace
    description: dict[str, Any]
    job: Job | None = None

    def event(self, kind: str, now: Any) -> TriggerEvent:
        return TriggerEvent(type=kind, rule_id=self.candidate.rule.id, source_file_id=self.source.id,
                            description=dict(self.description), occurred=now)


def _fire_jobs(session: Session, kind: str, firings: Sequence[_Firing], revisions: _Revisions,
               now: Any) -> list[TriggerEvent]:
    """Record the events and create and queue the jobs of job-type pairs in one savepoint: one
    INSERT of the events, one of the jobs, then the queueing (`queue_new_jobs`). An event that
    exists already (an evaluation that did not lock the file, since the locked check saw none)
    rolls the whole savepoint back; the pairs then fire one at a time (`_fire_rule`), where
    only the duplicate counts as already fired."""
    jobs = [firing.job for firing in firings if firing.job is not None]
    if not jobs:
        return []
    try:
        with session.begin_nested():
            session.add_all([job.event for job in jobs])
            transitions.queue_new_jobs(session, jobs)
    except IntegrityError:
        logger.info("a trigger event of the batch exists already; firing its %s rules one at a time", len(jobs))
        events = []
        for firing in firings:
            event = _fire_rule(session, kind, firing, revisions, now)
            if event is not None:
                events.append(event)
        return events
    return [job.event for job in jobs]


def _not_fired(candidate: _Candidate, source: ScaleFile, error: Exception) -> None:
    logger.warning("trigger rule %s (%s) did not fire for source file %s: %s",
                   candidate.rule.id, candidate.target, source.id, error)


def _fired_pairs(session: Session, pairs: Sequence[tuple[_Candidate, ScaleFile]]) -> set[tuple[int, int]]:
    """The (rule id, source file id) pairs among `pairs` that have an event already: one query."""
    rows = session.execute(select(TriggerEvent.rule_id, TriggerEvent.source_file_id).where(
        TriggerEvent.rule_id.in_({candidate.rule.id for candidate, _ in pairs}),
        TriggerEvent.source_file_id.in_({source.id for _, source in pairs})))
    return {(rule_id, file_id) for rule_id, file_id in rows if rule_id is not None and file_id is not None}


def _live_rules(session: Session, kind: str) -> list[_Candidate]:
    """The active rules of `kind` on active job types and active recipe types, in rule id
    order. Two queries, however many rules there are. A paused job type's rules fire too: its
    jobs wait QUEUED until it is resumed, so no file that lands during a pause is lost."""
    live = (TriggerRule.type == kind, TriggerRule.is_active, TriggerRule.archived.is_(None))
    rows: list[tuple[TriggerRule, JobType | None, RecipeType | None]] = [
        (rule, job_type, None) for rule, job_type in session.execute(
            select(TriggerRule, JobType).join(JobType, JobType.trigger_rule_id == TriggerRule.id)
            .where(*live, JobType.is_active))]
    rows += [(rule, None, recipe_type) for rule, recipe_type in session.execute(
        select(TriggerRule, RecipeType).join(RecipeType, RecipeType.trigger_rule_id == TriggerRule.id)
        .where(*live, RecipeType.is_active))]
    return [_Candidate(rule, ingest_trigger.parse(rule.configuration), job_type, recipe_type)
            for rule, job_type, recipe_type in sorted(rows, key=lambda row: row[0].id)]


def _current_revisions(session: Session, job_types: Sequence[JobType]) -> _Revisions:
    """The job types' current revisions with their interfaces parsed (once a batch, not once a
    job), by job type id."""
    wanted = {t.id: t.revision_num for t in job_types}
    if not wanted:
        return {}
    rows = session.scalars(select(JobTypeRevision).where(JobTypeRevision.job_type_id.in_(wanted)))
    return {r.job_type_id: (r, job_interface.parse(r.interface))
            for r in rows if wanted[r.job_type_id] == r.revision_num}


def _fire_rule(session: Session, kind: str, firing: _Firing, revisions: _Revisions,
               now: Any) -> TriggerEvent | None:
    """Record the pair's event and create its job or recipe, all in one savepoint; None when
    the event already exists (another evaluation got there first)."""
    candidate, source = firing.candidate, firing.source
    event = firing.event(kind, now)
    try:
        with session.begin_nested():
            if candidate.recipe_type is not None:
                data = RecipeData(inputs=(DataInput(candidate.configuration.input_data_name, file_id=source.id),),
                                  workspace_id=firing.workspace.id)
                recipes.check_recipe_data(session, candidate.recipe_type, data)
                session.add(event)
                session.flush()
                recipes.create_recipe(session, candidate.recipe_type, data, event)
            else:
                job = _new_job(firing, revisions, event, now)
                session.add(event)
                transitions.queue_job(session, job)
    except IntegrityError:
        logger.info("trigger rule %s already fired for source file %s", candidate.rule.id, source.id)
        return None
    return event


def _new_job(firing: _Firing, revisions: _Revisions, event: TriggerEvent, now: Any) -> Job:
    """A PENDING job of the pair's job type with its file as the rule's input and every output
    to its workspace; ValidationError when the interface does not take the file there."""
    job_type, source = firing.candidate.job_type, firing.source
    assert job_type is not None
    revision, interface = revisions[job_type.id]
    input_name = firing.candidate.configuration.input_data_name
    workspace = firing.workspace
    data = job_data.JobData(inputs=(DataInput(input_name, file_id=source.id),),
                            outputs=tuple(DataOutput(o.name, workspace.id) for o in interface.outputs))
    job_data.validate_against(data, interface)
    spec = interface.get_input(input_name)
    assert spec is not None  # validate_against checked the name
    if spec.media_types and source.media_type not in spec.media_types:
        raise ValidationError("data.input_data_name", f"input {input_name!r} accepts {', '.join(spec.media_types)}, "
                                                      f"not {source.media_type}")
    return new_job(job_type, revision, event, data, now)

