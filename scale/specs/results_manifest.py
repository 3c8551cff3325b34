"""Results Manifest Specification 1.1 (and 1.0, upgraded on parse): what a job run produced.

Decisions where the reference is loose:

* A missing `version` means 1.1, as the 1.1 text says. A 1.0 manifest must say `"1.0"`.
* 1.0 -> 1.1: `files[] {name, path | paths}` becomes `output_data[] {name, file {path} | files
  [{path}]}`; a parse result's `data_started`/`data_ended` move into its `geo_metadata`.
* A 1.1 parse result may carry `data_started`/`data_ended` either in `geo_metadata` (the
  structure and example) or beside `filename` (the field list); they are normalized into
  `geo_metadata`, and giving both is refused. `gis_data_path` (field list) is kept.
* Times are ISO-8601 and normalized to UTC with `Z`; a start after its end is refused.
* `info` and `errors` are "TODO" in the reference: any JSON object (or, for `errors`, array)
  is accepted and kept as given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._schema import STRING_LIST_SCHEMA, validate_document
from scale.timeutil import parse_datetime, to_iso

CURRENT_VERSION = "1.1"

_STRING: dict[str, Any] = {"type": "string", "minLength": 1}
_TIME: dict[str, Any] = {"type": "string"}
_GEO_METADATA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"data_started": _TIME, "data_ended": _TIME, "geo_json": {"type": "object"}},
}
_FILE: dict[str, Any] = {
    "type": "object",
    "required": ["path"],
    "additionalProperties": False,
    "properties": {"path": _STRING, "geo_metadata": _GEO_METADATA},
}
_PARSE_RESULT_1_0: dict[str, Any] = {
    "type": "object",
    "required": ["filename"],
    "additionalProperties": False,
    "properties": {
        "filename": _STRING,
        "data_started": _TIME,
        "data_ended": _TIME,
        "data_types": STRING_LIST_SCHEMA,
        "gis_data_path": _STRING,
    },
}
_PARSE_RESULT_1_1: dict[str, Any] = {
    **_PARSE_RESULT_1_0,
    "properties": {**_PARSE_RESULT_1_0["properties"], "new_workspace_path": _STRING, "geo_metadata": _GEO_METADATA},
}
_EXTRAS: dict[str, Any] = {"info": {"type": "object"}, "errors": {"type": ["object", "array"]}}

SCHEMA_1_1: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "output_data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {"name": _STRING, "file": _FILE, "files": {"type": "array", "items": _FILE}},
            },
        },
        "parse_results": {"type": "array", "items": _PARSE_RESULT_1_1},
        **_EXTRAS,
    },
}
SCHEMA_1_0: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {"name": _STRING, "path": _STRING, "paths": {"type": "array", "items": _STRING}},
            },
        },
        "parse_results": {"type": "array", "items": _PARSE_RESULT_1_0},
        **_EXTRAS,
    },
}


@dataclass(frozen=True)
class GeoMetadata:
    data_started: dt.datetime | None = None
    data_ended: dt.datetime | None = None
    geo_json: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.data_started is not None:
            doc["data_started"] = to_iso(self.data_started)
        if self.data_ended is not None:
            doc["data_ended"] = to_iso(self.data_ended)
        if self.geo_json is not None:
            doc["geo_json"] = self.geo_json
        return doc


@dataclass(frozen=True)
class ManifestFile:
    path: str
    geo_metadata: GeoMetadata | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"path": self.path}
        if self.geo_metadata is not None:
            doc["geo_metadata"] = self.geo_metadata.to_dict()
        return doc


@dataclass(frozen=True)
class OutputEntry:
    """One output. `multiple` False: a `file` output, `files` has exactly one item."""

    name: str
    files: tuple[ManifestFile, ...]
    multiple: bool

    def to_dict(self) -> dict[str, Any]:
        if not self.multiple:
            return {"name": self.name, "file": self.files[0].to_dict()}
        return {"name": self.name, "files": [item.to_dict() for item in self.files]}


@dataclass(frozen=True)
class ParseResult:
    filename: str
    data_types: tuple[str, ...] = ()
    new_workspace_path: str | None = None
    geo_metadata: GeoMetadata | None = None
    gis_data_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"filename": self.filename, "data_types": list(self.data_types)}
        if self.new_workspace_path is not None:
            doc["new_workspace_path"] = self.new_workspace_path
        if self.geo_metadata is not None:
            doc["geo_metadata"] = self.geo_metadata.to_dict()
        if self.gis_data_path is not None:
            doc["gis_data_path"] = self.gis_data_path
        return doc


@dataclass(frozen=True)
class ResultsManifest:
    outputs: tuple[OutputEntry, ...] = ()
    parse_results: tuple[ParseResult, ...] = ()
    info: Mapping[str, Any] | None = None
    errors: Any = None
    version: str = CURRENT_VERSION

    def get_output(self, name: str) -> OutputEntry | None:
        return next((entry for entry in self.outputs if entry.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "version": self.version,
            "output_data": [entry.to_dict() for entry in self.outputs],
            "parse_results": [result.to_dict() for result in self.parse_results],
        }
        if self.info is not None:
            doc["info"] = self.info
        if self.errors is not None:
            doc["errors"] = self.errors
        return doc


def parse(doc: object) -> ResultsManifest:
    """Validate a results manifest (1.0 or 1.1) and return it as 1.1."""
    version = validate_document(doc, {"1.0": SCHEMA_1_0, "1.1": SCHEMA_1_1}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    if version == "1.0":
        doc = _upgrade_1_0(doc)
    outputs = tuple(_output(item, f"output_data[{i}]") for i, item in enumerate(doc.get("output_data", [])))
    for index, entry in enumerate(outputs):
        if any(other.name == entry.name for other in outputs[:index]):
            raise ValidationError(f"output_data[{index}].name", f"output {entry.name!r} is given twice")
    return ResultsManifest(
        outputs=outputs,
        parse_results=tuple(
            _parse_result(item, f"parse_results[{i}]") for i, item in enumerate(doc.get("parse_results", []))
        ),
        info=doc.get("info"),
        errors=doc.get("errors"),
    )


def _upgrade_1_0(doc: dict[str, Any]) -> dict[str, Any]:
    """A 1.0 document rewritten as 1.1 (field paths of later errors then name 1.1 fields)."""
    outputs = []
    for index, item in enumerate(doc.get("files", [])):
        if ("path" in item) == ("paths" in item):
            raise ValidationError(f"files[{index}]", "needs exactly one of path, paths")
        if "path" in item:
            outputs.append({"name": item["name"], "file": {"path": item["path"]}})
        else:
            outputs.append({"name": item["name"], "files": [{"path": path} for path in item["paths"]]})
    upgraded: dict[str, Any] = {
        "version": CURRENT_VERSION,
        "output_data": outputs,
        "parse_results": doc.get("parse_results", []),
    }
    for key in ("info", "errors"):
        if key in doc:
            upgraded[key] = doc[key]
    return upgraded


def _output(item: Mapping[str, Any], field: str) -> OutputEntry:
    if ("file" in item) == ("files" in item):
        raise ValidationError(field, "needs exactly one of file, files")
    if "file" in item:
        return OutputEntry(item["name"], (_file(item["file"], f"{field}.file"),), multiple=False)
    files = tuple(_file(entry, f"{field}.files[{i}]") for i, entry in enumerate(item["files"]))
    return OutputEntry(item["name"], files, multiple=True)


def _file(item: Mapping[str, Any], field: str) -> ManifestFile:
    geo = item.get("geo_metadata")
    return ManifestFile(item["path"], _geo_metadata(geo, f"{field}.geo_metadata") if geo is not None else None)


def _parse_result(item: Mapping[str, Any], field: str) -> ParseResult:
    geo = dict(item.get("geo_metadata", {}))
    for key in ("data_started", "data_ended"):
        if key in item:
            if key in geo:
                raise ValidationError(f"{field}.{key}", f"is also given in {field}.geo_metadata")
            parse_datetime(item[key], field=f"{field}.{key}")  # so an error names where it was written
            geo[key] = item[key]
    has_geo = "geo_metadata" in item or bool(geo)
    return ParseResult(
        filename=item["filename"],
        data_types=tuple(item.get("data_types", ())),
        new_workspace_path=item.get("new_workspace_path"),
        geo_metadata=_geo_metadata(geo, f"{field}.geo_metadata") if has_geo else None,
        gis_data_path=item.get("gis_data_path"),
    )


def _geo_metadata(item: Mapping[str, Any], field: str) -> GeoMetadata:
    started = item.get("data_started")
    ended = item.get("data_ended")
    meta = GeoMetadata(
        data_started=parse_datetime(started, field=f"{field}.data_started") if started is not None else None,
        data_ended=parse_datetime(ended, field=f"{field}.data_ended") if ended is not None else None,
        geo_json=item.get("geo_json"),
    )
    if meta.data_started and meta.data_ended and meta.data_started > meta.data_ended:
        raise ValidationError(f"{field}.data_ended", "is before data_started")
    return meta
