"""Collecting an execution's outputs: results manifest 1.0/1.1, ARTIFACT lines, and the checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scale.execution.outputs import OutputError, collect_outputs
from scale.specs import job_interface


def interface(*outputs: dict) -> job_interface.JobInterface:
    return job_interface.parse({"version": "1.0", "command": "run", "command_arguments": "${job_output_dir}",
                                "output_data": list(outputs)})


@pytest.fixture
def outputs_dir(tmp_path: Path) -> Path:
    path = tmp_path / "outputs"
    path.mkdir()
    return path


@pytest.fixture
def stdout(tmp_path: Path) -> Path:
    path = tmp_path / "stdout.log"
    path.write_text("")
    return path


def write_manifest(outputs_dir: Path, doc: object) -> None:
    (outputs_dir / "results_manifest.json").write_text(json.dumps(doc))


def test_manifest_1_1_with_file_and_files(outputs_dir, stdout):
    (outputs_dir / "a.txt").write_text("a")
    (outputs_dir / "many").mkdir()
    (outputs_dir / "many/1.csv").write_text("1")
    (outputs_dir / "many/2.csv").write_text("2")
    write_manifest(outputs_dir, {"version": "1.1", "output_data": [
        {"name": "one", "file": {"path": str(outputs_dir / "a.txt"),
                                 "geo_metadata": {"data_started": "2015-01-01T00:00:00Z"}}},
        {"name": "many", "files": [{"path": "many/1.csv"}, {"path": "many/2.csv"}]},
    ]})
    results = collect_outputs(interface({"name": "one", "type": "file"}, {"name": "many", "type": "files"}),
                              outputs_dir, stdout)
    one, many = results.outputs
    assert (one.name, one.multiple, [f.rel_path for f in one.files]) == ("one", False, ["a.txt"])
    assert one.files[0].media_type == "text/plain"
    assert one.files[0].geo_metadata.data_started.year == 2015
    assert (many.multiple, [f.rel_path for f in many.files]) == (True, ["many/1.csv", "many/2.csv"])
    assert many.files[0].media_type == "text/csv"
    assert results.manifest is not None and results.manifest.version == "1.1"


def test_manifest_1_0_is_upgraded(outputs_dir, stdout):
    (outputs_dir / "out.json").write_text("{}")
    write_manifest(outputs_dir, {"version": "1.0", "files": [{"name": "result", "path": "out.json"}],
                                 "parse_results": [{"filename": "in.h5", "data_types": ["H5"]}]})
    results = collect_outputs(interface({"name": "result", "type": "file"}), outputs_dir, stdout)
    assert results.outputs[0].files[0].path == (outputs_dir / "out.json").resolve()
    assert results.outputs[0].files[0].media_type == "application/json"
    assert [p.result.filename for p in results.parse_results] == ["in.h5"]


def test_artifact_lines_register_outputs(outputs_dir, stdout):
    (outputs_dir / "x.bin").write_bytes(b"x")
    (outputs_dir / "y:1.bin").write_bytes(b"y")
    stdout.write_text("hello\nARTIFACT:single:x.bin\nnoise ARTIFACT:ignored:x\n"
                      f"ARTIFACT:several:{outputs_dir}/x.bin\nARTIFACT:several:y:1.bin\n")
    results = collect_outputs(interface({"name": "single", "type": "file"}, {"name": "several", "type": "files"}),
                              outputs_dir, stdout)
    single, several = results.outputs
    assert [f.rel_path for f in single.files] == ["x.bin"]
    assert single.files[0].media_type == "application/octet-stream"
    assert [f.rel_path for f in several.files] == ["x.bin", "y:1.bin"]


def test_manifest_wins_over_artifact_lines(outputs_dir, stdout):
    (outputs_dir / "from_manifest.txt").write_text("m")
    (outputs_dir / "from_stdout.txt").write_text("s")
    write_manifest(outputs_dir, {"output_data": [{"name": "out", "file": {"path": "from_manifest.txt"}}]})
    stdout.write_text("ARTIFACT:out:from_stdout.txt\n")
    results = collect_outputs(interface({"name": "out", "type": "file"}), outputs_dir, stdout)
    assert [f.rel_path for f in results.outputs[0].files] == ["from_manifest.txt"]


def test_missing_required_output(outputs_dir, stdout):
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "out", "type": "file"}), outputs_dir, stdout)
    assert caught.value.error_name == "missing-required-output"
    assert "'out'" in str(caught.value)


def test_missing_optional_output_is_fine(outputs_dir, stdout):
    results = collect_outputs(interface({"name": "out", "type": "file", "required": False}), outputs_dir, stdout)
    assert results.outputs == ()


@pytest.mark.parametrize("path", ["nowhere.txt", "../outside.txt", "/etc/hostname"])
def test_paths_must_be_files_inside_the_output_directory(outputs_dir, stdout, path):
    (outputs_dir.parent / "outside.txt").write_text("o")
    write_manifest(outputs_dir, {"output_data": [{"name": "out", "file": {"path": path}}]})
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "out", "type": "file"}), outputs_dir, stdout)
    assert caught.value.error_name == "missing-required-output"


def test_symlink_out_of_the_output_directory_is_refused(outputs_dir, stdout):
    (outputs_dir.parent / "secret.txt").write_text("s")
    (outputs_dir / "link.txt").symlink_to(outputs_dir.parent / "secret.txt")
    stdout.write_text("ARTIFACT:out:link.txt\n")
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "out", "type": "file"}), outputs_dir, stdout)
    assert caught.value.error_name == "missing-required-output"


def test_wrong_media_type(outputs_dir, stdout):
    (outputs_dir / "picture.txt").write_text("not a png")
    stdout.write_text("ARTIFACT:image:picture.txt\n")
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "image", "type": "file", "media_type": "image/png"}), outputs_dir, stdout)
    assert caught.value.error_name == "missing-required-output"
    assert "image/png" in str(caught.value)


def test_declared_media_type_is_used_when_the_extension_says_nothing(outputs_dir, stdout):
    (outputs_dir / "picture").write_bytes(b"\x89PNG")
    stdout.write_text("ARTIFACT:image:picture\n")
    results = collect_outputs(interface({"name": "image", "type": "file", "media_type": "image/png"}),
                              outputs_dir, stdout)
    assert results.outputs[0].files[0].media_type == "image/png"


@pytest.mark.parametrize("content", ["{not json", json.dumps({"version": "9.9"}),
                                     json.dumps({"output_data": [{"name": "out"}]})])
def test_invalid_manifest(outputs_dir, stdout, content):
    (outputs_dir / "results_manifest.json").write_text(content)
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "out", "type": "file", "required": False}), outputs_dir, stdout)
    assert caught.value.error_name == "invalid-results-manifest"


def test_undeclared_output_is_an_invalid_manifest(outputs_dir, stdout):
    (outputs_dir / "a.txt").write_text("a")
    write_manifest(outputs_dir, {"output_data": [{"name": "surprise", "file": {"path": "a.txt"}}]})
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface(), outputs_dir, stdout)
    assert caught.value.error_name == "invalid-results-manifest"
    assert "surprise" in str(caught.value)


def test_file_output_takes_one_file(outputs_dir, stdout):
    (outputs_dir / "a.txt").write_text("a")
    (outputs_dir / "b.txt").write_text("b")
    stdout.write_text("ARTIFACT:out:a.txt\nARTIFACT:out:b.txt\n")
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface({"name": "out", "type": "file"}), outputs_dir, stdout)
    assert caught.value.error_name == "invalid-results-manifest"


def test_malformed_artifact_line(outputs_dir, stdout):
    stdout.write_text("ARTIFACT:only-a-name\n")
    with pytest.raises(OutputError) as caught:
        collect_outputs(interface(), outputs_dir, stdout)
    assert caught.value.error_name == "invalid-results-manifest"


def test_gis_data_path_is_read_from_the_output_directory(outputs_dir, stdout):
    geo = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}}
    (outputs_dir / "geo.json").write_text(json.dumps(geo))
    write_manifest(outputs_dir, {"parse_results": [{"filename": "in.h5", "gis_data_path": "geo.json"}]})
    results = collect_outputs(interface(), outputs_dir, stdout)
    assert results.parse_results[0].gis_data == geo

