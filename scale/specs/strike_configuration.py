"""Strike Configuration Specification 1.0: the directory a Strike watches and what it ingests.

Decisions beyond the reference:

* `mount` is either `host:/path` (NFS, the reference) or a plain absolute path (a local
  directory, DESIGN.md). Relative paths, `..` segments, system directories and Scale's home
  are refused (`scale.workspaces.roots`).
* `transfer_suffix` may be omitted (None): every file is then taken to be complete when seen.
* `workspace_path` is relative to the workspace root and may not contain `..`; a leading `/`
  (as in the reference's own example, `/wrksp/path`) is dropped, not taken as absolute.
* `filename_regex` must compile as a Python regular expression; it is matched with
  `re.match` against the file name, rules in order, first match wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from scale.exceptions import ValidationError
from scale.specs._paths import (
    check_absolute_path,
    check_relative_path,
    is_nfs_mount,
    parse_nfs_mount,
)
from scale.specs._schema import STRING_LIST_SCHEMA, validate_document
from scale.workspaces.roots import check_local_root, check_remote_root

CURRENT_VERSION = "1.0"

_STRING: dict[str, Any] = {"type": "string", "minLength": 1}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["mount", "files_to_ingest"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "mount": _STRING,
        "transfer_suffix": _STRING,
        "files_to_ingest": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["filename_regex", "workspace_path", "workspace_name"],
                "additionalProperties": False,
                "properties": {
                    "filename_regex": _STRING,
                    "data_types": STRING_LIST_SCHEMA,
                    "workspace_path": {"type": "string"},
                    "workspace_name": _STRING,
                },
            },
        },
    },
}


@dataclass(frozen=True)
class IngestRule:
    filename_regex: str
    workspace_path: str
    workspace_name: str
    data_types: tuple[str, ...] = ()

    def matches(self, file_name: str) -> bool:
        return re.match(self.filename_regex, file_name) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename_regex": self.filename_regex,
            "data_types": list(self.data_types),
            "workspace_path": self.workspace_path,
            "workspace_name": self.workspace_name,
        }


@dataclass(frozen=True)
class StrikeConfiguration:
    mount: str
    files_to_ingest: tuple[IngestRule, ...]
    transfer_suffix: str | None = None
    version: str = CURRENT_VERSION

    @property
    def mount_type(self) -> Literal["nfs", "host"]:
        """`nfs` for `host:/path`, `host` for a local absolute directory."""
        return "nfs" if is_nfs_mount(self.mount) else "host"

    @property
    def mount_host(self) -> str | None:
        return self.mount.split(":", 1)[0] if self.mount_type == "nfs" else None

    @property
    def mount_path(self) -> str:
        """The directory: the path part of an NFS mount, or the local directory itself."""
        return self.mount.split(":", 1)[1] if self.mount_type == "nfs" else self.mount

    def rule_for(self, file_name: str) -> IngestRule | None:
        """The first rule whose regex matches `file_name`, or None (the file is not ingested)."""
        return next((rule for rule in self.files_to_ingest if rule.matches(file_name)), None)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": self.version, "mount": self.mount}
        if self.transfer_suffix is not None:
            doc["transfer_suffix"] = self.transfer_suffix
        doc["files_to_ingest"] = [rule.to_dict() for rule in self.files_to_ingest]
        return doc


def parse(doc: object, *, home: Path | None) -> StrikeConfiguration:
    """Validate a Strike configuration document; raises ValidationError naming the field.

    `home` is Scale's home, refused as a mount with what is in and above it (None: not checked)."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    mount = doc["mount"]
    if is_nfs_mount(mount):
        _host, path = parse_nfs_mount(mount, field="mount")
        check_remote_root(path, field="mount")
    else:
        check_local_root(check_absolute_path(mount, field="mount"), field="mount", home=home)
    return StrikeConfiguration(
        mount=mount,
        files_to_ingest=tuple(_rule(item, f"files_to_ingest[{i}]") for i, item in enumerate(doc["files_to_ingest"])),
        transfer_suffix=doc.get("transfer_suffix"),
        version=version,
    )


def _rule(item: dict[str, Any], field: str) -> IngestRule:
    try:
        re.compile(item["filename_regex"])
    except re.error as error:
        raise ValidationError(f"{field}.filename_regex", f"is not a valid regular expression: {error}") from None
    return IngestRule(
        filename_regex=item["filename_regex"],
        workspace_path=check_relative_path(item["workspace_path"], field=f"{field}.workspace_path"),
        workspace_name=item["workspace_name"],
        data_types=tuple(item.get("data_types", ())),
    )
