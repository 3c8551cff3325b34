"""Ingests in the reference's shapes: Ingest List entries, Ingest Details (with the Strike's
details, the paths and, beyond the reference, `error`, `workspace` and `job`), and Ingest Status
entries."""

from __future__ import annotations

from typing import Any

from api.serialize.products import source_file_summary
from api.serialize.strikes import strike_details, strike_ref, strike_summary
from scale.ingest.queries import StrikeStatus
from scale.models.ingest import Ingest
from scale.timeutil import to_iso

_VALUES = ("id", "file_name", "status", "bytes_transferred", "media_type", "file_size", "data_type")
_TIMES = ("transfer_started", "transfer_ended", "ingest_started", "ingest_ended", "created", "last_modified")


def ingest_summary(ingest: Ingest, *, with_source: bool = True) -> dict[str, Any]:
    """A list entry; a source file's details leave out `source_file` (it is the file itself)."""
    entry = {**{name: getattr(ingest, name) for name in _VALUES},
             **{name: to_iso(getattr(ingest, name)) for name in _TIMES},
             "strike": strike_ref(ingest.strike)}
    if with_source:
        entry["source_file"] = None if ingest.source_file is None else source_file_summary(ingest.source_file)
    return entry


def ingest_details(ingest: Ingest) -> dict[str, Any]:
    return {
        **ingest_summary(ingest),
        "strike": None if ingest.strike is None else strike_details(ingest.strike),
        "transfer_path": ingest.transfer_path, "file_path": ingest.file_path, "ingest_path": ingest.ingest_path,
        "error": ingest.error,
        "workspace": None if ingest.workspace_id is None else {"id": ingest.workspace_id},
        "job": None if ingest.job_id is None else {"id": ingest.job_id},
    }


def strike_status(status: StrikeStatus) -> dict[str, Any]:
    return {
        "strike": strike_summary(status.strike), "most_recent": to_iso(status.most_recent),
        "files": status.files, "size": status.size,
        "values": [{"time": to_iso(slot.time), "files": slot.files, "size": slot.size} for slot in status.values],
    }
