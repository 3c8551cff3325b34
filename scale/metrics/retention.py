"""Cleanup of expired records, the clock's daily `scale-cleanup` rule: load samples and queue
depths older than `SAMPLE_RETENTION`, and the clock's own trigger events older than
`CLOCK_EVENT_RETENTION` (the newest event of each type stays: it is what the schedule counts from).
Daily rollups (`metrics_*`) are small and kept."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, func, select
from sqlalchemy.orm import Session

from scale.models.metrics import JobLoad, QueueDepthByJobType, QueueDepthByPriority
from scale.models.triggers import TriggerEvent, TriggerRule, TriggerRuleType
from scale.specs import clock_trigger

PROCESSOR_NAME = clock_trigger.CLEANUP_PROCESSOR
SAMPLE_RETENTION = dt.timedelta(days=90)
CLOCK_EVENT_RETENTION = dt.timedelta(days=7)


def _delete(session: Session, stmt: Delete) -> int:
    return cast(CursorResult[Any], session.execute(stmt.execution_options(synchronize_session=False))).rowcount


def delete_expired(session: Session, now: dt.datetime) -> dict[str, int]:
    """Delete what has expired at `now`; returns how many rows of each table went."""
    samples_before, events_before = now - SAMPLE_RETENTION, now - CLOCK_EVENT_RETENTION
    deleted = {
        "job_load": _delete(session, delete(JobLoad).where(JobLoad.measured < samples_before)),
        "queue_depth_job_type": _delete(
            session, delete(QueueDepthByJobType).where(QueueDepthByJobType.depth_time < samples_before)),
        "queue_depth_priority": _delete(
            session, delete(QueueDepthByPriority).where(QueueDepthByPriority.depth_time < samples_before)),
    }
    clock_rules = select(TriggerRule.id).where(TriggerRule.type == TriggerRuleType.CLOCK)
    newest = select(func.max(TriggerEvent.id)).where(TriggerEvent.rule_id.in_(clock_rules)).group_by(TriggerEvent.type)
    deleted["trigger_event"] = _delete(session, delete(TriggerEvent).where(
        TriggerEvent.rule_id.in_(clock_rules), TriggerEvent.occurred < events_before, TriggerEvent.id.not_in(newest)))
    return deleted


def process_clock_event(session: Session, event: TriggerEvent) -> None:
    delete_expired(session, event.occurred)
