"""The base class of Scale's system tasks: their one retry policy (STYLE.md section 6)."""

from __future__ import annotations

from celery import Task
from sqlalchemy.exc import OperationalError


class SystemTask(Task):
    """The base of Scale's system tasks (`shared_task(base=SystemTask)`), with their one retry
    policy: a database that is briefly unreachable (or an SQLite file briefly locked) is retried,
    with exponential backoff, up to 5 times. Tasks are idempotent, so a retry is harmless."""

    autoretry_for = (OperationalError,)
    retry_backoff = True
    max_retries = 5
