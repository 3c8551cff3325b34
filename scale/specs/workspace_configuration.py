"""Workspace Configuration Specification 1.0: the broker that stores a workspace's files.

Broker types: `nfs` with `mount` = `host:/path` (reference), and `host` with `host_path` = an
absolute directory on this machine (DESIGN.md, "Contracts beyond the reference"). Neither path
may contain a `..` segment, nor be a system directory or Scale's home (`scale.workspaces.roots`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._paths import check_absolute_path, parse_nfs_mount
from scale.specs._schema import validate, validate_document
from scale.workspaces.roots import check_local_root, check_remote_root

CURRENT_VERSION = "1.0"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["broker"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "broker": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string"}},
        },
    },
}

# The fields of each broker type, checked once the type is known so errors name the field.
BROKER_SCHEMAS: dict[str, dict[str, Any]] = {
    "nfs": {
        "type": "object",
        "required": ["type", "mount"],
        "additionalProperties": False,
        "properties": {"type": {"const": "nfs"}, "mount": {"type": "string", "minLength": 1}},
    },
    "host": {
        "type": "object",
        "required": ["type", "host_path"],
        "additionalProperties": False,
        "properties": {"type": {"const": "host"}, "host_path": {"type": "string", "minLength": 1}},
    },
}


@dataclass(frozen=True)
class NfsBroker:
    mount: str
    host: str
    path: str
    type: str = "nfs"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "mount": self.mount}


@dataclass(frozen=True)
class HostBroker:
    host_path: str
    type: str = "host"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "host_path": self.host_path}


@dataclass(frozen=True)
class WorkspaceConfiguration:
    broker: NfsBroker | HostBroker
    version: str = CURRENT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "broker": self.broker.to_dict()}


def parse(doc: object, *, home: Path | None) -> WorkspaceConfiguration:
    """Validate a workspace configuration document; raises ValidationError naming the field.

    `home` is Scale's home, refused as a root with what is in and above it (None: not checked)."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    broker = doc["broker"]
    schema = BROKER_SCHEMAS.get(broker["type"])
    if schema is None:
        raise ValidationError("broker.type", f"{broker['type']!r} is not a broker type ({', '.join(BROKER_SCHEMAS)})")
    try:
        validate(broker, schema)
    except ValidationError as error:
        raise error.within("broker") from None
    if broker["type"] == "nfs":
        host, path = parse_nfs_mount(broker["mount"], field="broker.mount")
        check_remote_root(path, field="broker.mount")
        return WorkspaceConfiguration(NfsBroker(broker["mount"], host, path), version)
    host_path = check_absolute_path(broker["host_path"], field="broker.host_path")
    check_local_root(host_path, field="broker.host_path", home=home)
    return WorkspaceConfiguration(HostBroker(host_path), version)
