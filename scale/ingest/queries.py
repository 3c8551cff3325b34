"""The reads of ingests: the list, one ingest's details and the per-Strike ingest status.

Decisions where the reference is silent:

* The list's `started`/`ended` bound `transfer_started`; filters `status`, `strike_id` and
  `file_name` repeat; the default order is newest first (`-transfer_started`, then `-id`).
* Ingest status counts INGESTED files only, in one-hour slots (UTC, on the hour). With
  `use_ingest_time=true` a file counts at its `ingest_ended`; otherwise at its source file's
  `data_started`, falling back to `ingest_ended` for files whose data time is unknown.
  `started` defaults to one week before `ended` (which defaults to now); a range longer than
  31 days is refused (400 naming `started`). Every Strike is listed (ordered by name), so a
  silent feed shows up with zero counts; `values` holds every slot of the range, empty ones
  with zeros; `files`, `size` and `most_recent` (the latest `ingest_ended`) cover the range.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session, contains_eager, selectinload
from sqlalchemy.sql.elements import ColumnElement

from scale.exceptions import NotFound, ValidationError
from scale.ingest.strikes import strike_job_options
from scale.listing import Filter, ListSpec, parse_bool, parse_int
from scale.models.files import ScaleFile
from scale.models.ingest import Ingest, IngestStatus, Strike
from scale.timeutil import as_utc, parse_time_or_duration, utcnow

STATUS_DEFAULT_RANGE = dt.timedelta(weeks=1)
STATUS_MAX_RANGE = dt.timedelta(days=31)
SLOT = dt.timedelta(hours=1)

INGEST_LIST = ListSpec(
    filters={"status": Filter(Ingest.status, choices=tuple(IngestStatus)),
             "strike_id": Filter(Ingest.strike_id, parse_int),
             "file_name": Filter(Ingest.file_name)},
    orders={**{name: getattr(Ingest, name) for name in (
        "id", "file_name", "status", "bytes_transferred", "transfer_started", "transfer_ended", "media_type",
        "file_size", "ingest_started", "ingest_ended", "created", "last_modified")},
        "strike__id": Strike.id, "strike__name": Strike.name,
        **{f"source_file__{name}": getattr(ScaleFile, name) for name in (
            "id", "file_name", "created", "last_modified", "data_started", "data_ended", "parsed")}},
    default_order=("-transfer_started", "-id"),
    time_column=Ingest.transfer_started,
)

# Ingest status pages through Strikes (`strikes.list_strikes_statement`); its time range is parsed by
# `parse_status_args`.
STATUS_LIST = ListSpec(
    orders={"id": Strike.id, "name": Strike.name, "created": Strike.created},
    default_order=("name", "id"),
)


def list_ingests_statement() -> Select:
    """Ingests joined to their Strike and source file (so orders may name them)."""
    return (select(Ingest).outerjoin(Ingest.strike).outerjoin(Ingest.source_file)
            .options(contains_eager(Ingest.strike), contains_eager(Ingest.source_file)
                     .selectinload(ScaleFile.workspace)))


def get_ingest(session: Session, ingest_id: int) -> Ingest:
    """The ingest with its Strike (and the Strike's job) and source file; NotFound otherwise."""
    ingest = session.scalars(select(Ingest).where(Ingest.id == ingest_id).options(
        selectinload(Ingest.strike).options(*strike_job_options()),
        selectinload(Ingest.source_file).selectinload(ScaleFile.workspace),
    )).one_or_none()
    if ingest is None:
        raise NotFound(f"ingest {ingest_id} does not exist")
    return ingest


@dataclass(frozen=True)
class StatusRange:
    started: dt.datetime
    ended: dt.datetime
    use_ingest_time: bool = False


@dataclass(frozen=True)
class StatusSlot:
    time: dt.datetime
    files: int = 0
    size: int = 0


@dataclass(frozen=True)
class StrikeStatus:
    """One Strike's ingests in the range: totals, the latest ingest and the hourly slots."""

    strike: Strike
    most_recent: dt.datetime | None
    files: int
    size: int
    values: list[StatusSlot] = field(default_factory=list)


def _single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in args.get(name) or () if v != ""]
    if len(values) > 1:
        raise ValidationError(name, "may be given only once")
    return values[0] if values else None


def parse_status_args(args: Mapping[str, Sequence[str]], *, now: dt.datetime | None = None) -> StatusRange:
    """`started`, `ended` and `use_ingest_time` of an ingest status request (see the module docstring)."""
    now = now or utcnow()
    text = _single(args, "ended")
    ended = parse_time_or_duration(text, field="ended", now=now) if text is not None else now
    try:
        # The slots run an hour past `ended`; the default range a week before it.
        ended + SLOT
        default_started = ended - STATUS_DEFAULT_RANGE
    except OverflowError:
        raise ValidationError("ended", "is out of range") from None
    text = _single(args, "started")
    started = parse_time_or_duration(text, field="started", now=now) if text is not None else default_started
    if started > ended:
        raise ValidationError("started", "must not be after ended")
    if ended - started > STATUS_MAX_RANGE:
        raise ValidationError("started", "the time range may span at most 31 days")
    text = _single(args, "use_ingest_time")
    use_ingest_time = parse_bool(text, field="use_ingest_time") if text is not None else False
    return StatusRange(started=started, ended=ended, use_ingest_time=use_ingest_time)


def ingest_status(session: Session, strikes: Sequence[Strike], window: StatusRange) -> list[StrikeStatus]:
    """Each of `strikes` with its INGESTED files in `window`, counted per hour in the database."""
    if not strikes:
        return []
    when: Any = (
        Ingest.ingest_ended if window.use_ingest_time else func.coalesce(ScaleFile.data_started, Ingest.ingest_ended))
    slot = _hour_of(session, when).label("slot")
    rows: Sequence[Any] = session.execute(
        select(Ingest.strike_id, slot, func.count(Ingest.id), func.coalesce(func.sum(Ingest.file_size), 0),
               func.max(Ingest.ingest_ended))
        .select_from(Ingest).outerjoin(ScaleFile, Ingest.source_file_id == ScaleFile.id)
        .where(Ingest.strike_id.in_([s.id for s in strikes]), Ingest.status == IngestStatus.INGESTED,
               when >= window.started, when <= window.ended)
        .group_by(Ingest.strike_id, literal_column("slot"))).all()
    counted: dict[int, dict[dt.datetime, StatusSlot]] = {}
    latest: dict[int, dt.datetime] = {}
    for strike_id, hour, files, size, most_recent in rows:
        start = _as_slot(hour)
        counted.setdefault(strike_id, {})[start] = StatusSlot(start, int(files), int(size))
        if most_recent is not None:
            most_recent = as_utc(most_recent)
            if strike_id not in latest or most_recent > latest[strike_id]:
                latest[strike_id] = most_recent
    slots = _slots(window)
    result = []
    for strike in strikes:
        mine = counted.get(strike.id, {})
        result.append(StrikeStatus(
            strike=strike, most_recent=latest.get(strike.id),
            files=sum(s.files for s in mine.values()), size=sum(s.size for s in mine.values()),
            values=[mine.get(start, StatusSlot(start)) for start in slots]))
    return result


def _slots(window: StatusRange) -> list[dt.datetime]:
    start = as_utc(window.started).replace(minute=0, second=0, microsecond=0)
    slots = []
    while start <= window.ended:
        slots.append(start)
        start += SLOT
    return slots


def _hour_of(session: Session, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The start of the UTC hour `column` falls in, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    # SQLite keeps times as UTC text ("2015-10-21 14:36:56.000000").
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_slot(value: object) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return as_utc(value)
