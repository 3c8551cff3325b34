"""The Strike and scan commands the API sends, parsed from their JSON at the edge. Each
`from_json` validates the body's shape and the configuration document (against Scale's `home`,
which no Strike may watch and no scan may read), raising ValidationError naming the field;
whether the configuration's workspaces exist is the service's question."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scale.definitions.fields import Document
from scale.exceptions import ValidationError
from scale.specs import strike_configuration
from scale.specs._fields import BOOLEAN, JSON_OBJECT, STABLE_NAME, TEXT, body_schema
from scale.specs._schema import validate
from scale.specs.strike_configuration import StrikeConfiguration

# The strike table holds a title of at most 50 characters.
_TITLE: dict[str, Any] = {"type": ["string", "null"], "maxLength": 50}
_FIELDS: dict[str, Any] = {"title": _TITLE, "description": TEXT, "configuration": JSON_OBJECT}
CREATE_SCHEMA = body_schema({"name": STABLE_NAME, **_FIELDS}, required=("name", "configuration"))
EDIT_SCHEMA = body_schema({**_FIELDS, "is_active": BOOLEAN})
# `POST /api/scans/`: the configuration and whether this is a dry run (default false).
SCAN_REQUEST_SCHEMA = body_schema({"configuration": JSON_OBJECT, "dry_run": BOOLEAN}, required=("configuration",))
# The rules of a workspace scan are validated as a Strike configuration's, which needs a mount:
# this one is never used (a workspace scan reads its workspace) and passes the mount rules.
_NO_MOUNT = "/scale-workspace-scan"


def parse_configuration(doc: object, *, home: Path | None) -> StrikeConfiguration:
    """A Strike configuration document on its own; ValidationError fields start with `configuration`."""
    try:
        return strike_configuration.parse(doc, home=home)
    except ValidationError as error:
        raise error.within("configuration") from None


@dataclass(frozen=True)
class StrikeCreate:
    name: str
    configuration: StrikeConfiguration
    title: str | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> StrikeCreate:
        validate(doc, CREATE_SCHEMA)
        assert isinstance(doc, dict)
        return cls(name=doc["name"], configuration=parse_configuration(doc["configuration"], home=home),
                   title=doc.get("title"), description=doc.get("description"))


@dataclass(frozen=True)
class StrikeEdit:
    """An edit; `given` names the fields the body gave (a `null` title is a change)."""

    given: frozenset[str]
    title: str | None = None
    description: str | None = None
    configuration: StrikeConfiguration | None = None
    is_active: bool | None = None

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> StrikeEdit:
        validate(doc, EDIT_SCHEMA)
        assert isinstance(doc, dict)
        configuration = parse_configuration(doc["configuration"], home=home) if "configuration" in doc else None
        return cls(given=frozenset(doc), title=doc.get("title"), description=doc.get("description"),
                   configuration=configuration, is_active=doc.get("is_active"))


@dataclass(frozen=True)
class ScanConfiguration:
    """What a scan reads (`scale/ingest/scan.py`): a Strike configuration, or the same with
    `workspace` (a workspace name) in place of `mount`. The scan raises the rules' parse error
    after it has checked that the workspace exists, as it always has."""

    rules: Document[StrikeConfiguration]
    workspace: str | None  # None: a directory scan of `rules.mount`

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> ScanConfiguration:
        """ValidationError fields start with `configuration`; a `mount` may not be Scale's `home`."""
        def rules(config: object) -> StrikeConfiguration:
            return parse_configuration(config, home=home)

        if not isinstance(doc, dict):
            raise ValidationError("configuration", "must be a JSON object")
        if "workspace" not in doc:
            return cls(Document.parse(rules, doc), None)
        name = doc["workspace"]
        if "mount" in doc:
            raise ValidationError("configuration.workspace", "give either mount or workspace, not both")
        if not isinstance(name, str):
            raise ValidationError("configuration.workspace", f"workspace {name!r} does not exist or is not active")
        given = {key: value for key, value in doc.items() if key != "workspace"}
        return cls(Document.parse(rules, {**given, "mount": _NO_MOUNT}), name)


@dataclass(frozen=True)
class ScanRequest:
    """`POST /api/scans/`: scan `configuration`; a dry run only lists what would be ingested."""

    configuration: ScanConfiguration
    dry_run: bool = False

    @classmethod
    def from_json(cls, doc: object, *, home: Path) -> ScanRequest:
        validate(doc, SCAN_REQUEST_SCHEMA)
        assert isinstance(doc, dict)
        return cls(ScanConfiguration.from_json(doc["configuration"], home=home), bool(doc.get("dry_run", False)))
