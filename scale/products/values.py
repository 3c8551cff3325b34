"""What an execution hands over to become products: its declared outputs' files and the parse
results of its inputs, checked (`scale.execution.outputs` collects them) and ready to store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scale.specs.results_manifest import GeoMetadata, ParseResult


@dataclass(frozen=True)
class OutputFile:
    """One product to store: `path` is absolute and inside the output directory, `rel_path`
    is the same file relative to it (`sub/out.txt`)."""

    path: Path
    rel_path: str
    media_type: str
    geo_metadata: GeoMetadata | None = None


@dataclass(frozen=True)
class CollectedOutput:
    """The files of one declared output; `multiple` is True for a `files` output."""

    name: str
    multiple: bool
    files: tuple[OutputFile, ...]


@dataclass(frozen=True)
class ParsedInput:
    """A parse result, with the GeoJSON document its `gis_data_path` named (if any)."""

    result: ParseResult
    gis_data: dict[str, Any] | None = None
