"""What an execution produced: its results manifest and `ARTIFACT:` lines, checked against the
job interface's outputs.

Decisions where the reference is silent:

* `outputs/results_manifest.json` (1.0 or 1.1) is optional; a manifest that is not JSON or not
  valid, or that names an output the interface does not declare, fails the execution with
  `invalid-results-manifest`.
* `ARTIFACT:<output_name>:<path>` lines in stdout register files too (the path may contain
  colons; repeated lines for a `files` output add files). For an output the manifest names,
  its lines are ignored: the manifest wins. A line naming an undeclared output is
  `invalid-results-manifest`, like the manifest.
* A relative path is relative to the output directory (`${job_output_dir}`). Every path must
  be a regular file inside the output directory after following symlinks.
* A `file` output takes exactly one file. A required output without files, a path that is not
  a file inside the output directory, or a file whose extension names a media type other than
  the output's `media_type` fails with `missing-required-output`.
* A product's media type is the output's `media_type`; without one it is guessed from the file
  extension (`mimetypes`), falling back to `application/octet-stream`.
* A parse result's `gis_data_path` is read like an output path (relative to, and confined to,
  the output directory) and must hold a JSON object; otherwise `invalid-results-manifest`.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from scale.exceptions import ScaleError, ValidationError
from scale.models.errors import AlgorithmErrorName
from scale.products.values import CollectedOutput, OutputFile, ParsedInput
from scale.specs import results_manifest
from scale.specs.job_interface import JobInterface, OutputSpec
from scale.specs.results_manifest import GeoMetadata, ParseResult, ResultsManifest

MANIFEST_NAME = "results_manifest.json"
ARTIFACT_PREFIX = "ARTIFACT:"
DEFAULT_MEDIA_TYPE = "application/octet-stream"
# Short names for the two errors raised here (the outputs, not Scale, are at fault).
INVALID_MANIFEST = AlgorithmErrorName.INVALID_RESULTS_MANIFEST
MISSING_OUTPUT = AlgorithmErrorName.MISSING_REQUIRED_OUTPUT


class OutputError(ScaleError):
    """The execution's outputs are unusable; `error_name` is the Scale error to fail it with."""

    def __init__(self, error_name: AlgorithmErrorName, message: str) -> None:
        self.error_name = error_name
        super().__init__(message)


@dataclass(frozen=True)
class CollectedResults:
    outputs: tuple[CollectedOutput, ...] = ()
    parse_results: tuple[ParsedInput, ...] = ()
    manifest: ResultsManifest | None = None


def collect_outputs(interface: JobInterface, outputs_dir: Path, stdout_path: Path) -> CollectedResults:
    """The checked outputs of an execution whose command exited 0. Raises OutputError."""
    manifest = read_manifest(outputs_dir / MANIFEST_NAME)
    given: dict[str, tuple[list[str], list[GeoMetadata | None]]] = {}
    if manifest is not None:
        for entry in manifest.outputs:
            given[entry.name] = ([item.path for item in entry.files], [item.geo_metadata for item in entry.files])
    for name, paths in read_artifacts(stdout_path).items():
        if name not in given:  # the manifest wins
            given[name] = (paths, [None] * len(paths))
    for name in given:
        if interface.get_output(name) is None:
            raise OutputError(INVALID_MANIFEST, f"output {name!r} is not an output of the job interface")
    root = outputs_dir.resolve()
    collected = []
    for spec in interface.outputs:
        paths, geo = given.get(spec.name, ([], []))
        if not paths:
            if spec.required:
                raise OutputError(MISSING_OUTPUT, f"required output {spec.name!r} was not produced")
            continue
        if spec.type == "file" and len(paths) > 1:
            raise OutputError(INVALID_MANIFEST, f"output {spec.name!r} is one file, but {len(paths)} were given")
        files = tuple(_output_file(spec, path, root, meta) for path, meta in zip(paths, geo, strict=True))
        collected.append(CollectedOutput(spec.name, spec.type == "files", files))
    parsed = tuple(_parsed_input(result, root) for result in (manifest.parse_results if manifest else ()))
    return CollectedResults(outputs=tuple(collected), parse_results=parsed, manifest=manifest)


def read_manifest(path: Path) -> ResultsManifest | None:
    """The parsed manifest at `path`, None when there is none. Raises OutputError."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OutputError(INVALID_MANIFEST, f"{MANIFEST_NAME} is not JSON: {error}") from None
    try:
        return results_manifest.parse(doc)
    except ValidationError as error:
        raise OutputError(INVALID_MANIFEST, f"{MANIFEST_NAME}: {error}") from None


def read_artifacts(stdout_path: Path) -> dict[str, list[str]]:
    """Output name -> paths registered by `ARTIFACT:<name>:<path>` lines, in order."""
    artifacts: dict[str, list[str]] = {}
    if not stdout_path.is_file():
        return artifacts
    with stdout_path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith(ARTIFACT_PREFIX):
                continue
            name, colon, path = line[len(ARTIFACT_PREFIX):].rstrip("\r\n").partition(":")
            if not colon or not name or not path:
                raise OutputError(INVALID_MANIFEST, f"{line.strip()!r} is not ARTIFACT:<output_name>:<path>")
            artifacts.setdefault(name, []).append(path)
    return artifacts


def _output_file(spec: OutputSpec, path: str, root: Path, geo: GeoMetadata | None) -> OutputFile:
    candidate = Path(path) if Path(path).is_absolute() else root / path
    resolved = candidate.resolve()
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise OutputError(MISSING_OUTPUT, f"output {spec.name!r}: {path!r} is not a file in the output directory")
    guessed = mimetypes.guess_type(resolved.name)[0]
    if spec.media_type is not None and guessed is not None and guessed != spec.media_type:
        raise OutputError(
            MISSING_OUTPUT, f"output {spec.name!r}: {resolved.name!r} is {guessed}, not {spec.media_type}"
        )
    media_type = spec.media_type or guessed or DEFAULT_MEDIA_TYPE
    return OutputFile(resolved, resolved.relative_to(root).as_posix(), media_type, geo)


def _parsed_input(result: ParseResult, root: Path) -> ParsedInput:
    """`gis_data_path` is read like an output path: relative to, and confined to, the output directory."""
    if result.gis_data_path is None:
        return ParsedInput(result)
    candidate = Path(result.gis_data_path)
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    problem = f"parse result for {result.filename!r}: gis_data_path {result.gis_data_path!r}"
    if not resolved.is_relative_to(root) or not resolved.is_file():
        raise OutputError(INVALID_MANIFEST, f"{problem} is not a file in the output directory")
    try:
        gis_data = json.loads(resolved.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OutputError(INVALID_MANIFEST, f"{problem} is not JSON: {error}") from None
    if not isinstance(gis_data, dict):
        raise OutputError(INVALID_MANIFEST, f"{problem} is not a GeoJSON object")
    return ParsedInput(result, gis_data)
