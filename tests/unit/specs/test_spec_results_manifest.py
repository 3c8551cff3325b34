"""Results Manifest 1.1 (and 1.0, upgraded on parse)."""

import pytest

from scale.exceptions import ValidationError
from scale.specs import results_manifest

# Reference, "Results Manifest": one output.
ONE_OUTPUT = {
    "version": "1.1",
    "output_data": [{"name": "output_file", "file": {"path": "/tmp/job_exe_231/outputs/output.csv"}}],
}

# Reference, "Results Manifest": a parsed input (its trailing comma is fine in Python).
PARSED_INPUT = {
    "version": "1.1",
    "parse_results": [
        {
            "filename": "myfile.h5",
            "data_types": ["H5", "VEG"],
            "geo_metadata": {
                "data_started": "2015-05-15T10:34:12Z",
                "data_ended": "2015-05-15T10:36:12Z",
            },
        }
    ],
}

GEO_JSON = {"type": "Polygon", "coordinates": [[[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 0, 0]]]}


def rejected(doc):
    with pytest.raises(ValidationError) as caught:
        results_manifest.parse(doc)
    return caught.value


def test_one_output_example():
    manifest = results_manifest.parse(ONE_OUTPUT)
    entry = manifest.get_output("output_file")
    assert not entry.multiple
    assert entry.files[0].path == "/tmp/job_exe_231/outputs/output.csv"
    assert manifest.to_dict() == {**ONE_OUTPUT, "parse_results": []}


def test_parsed_input_example():
    manifest = results_manifest.parse(PARSED_INPUT)
    result = manifest.parse_results[0]
    assert result.filename == "myfile.h5"
    assert result.data_types == ("H5", "VEG")
    assert manifest.to_dict()["parse_results"][0]["geo_metadata"] == {
        "data_started": "2015-05-15T10:34:12.000Z",
        "data_ended": "2015-05-15T10:36:12.000Z",
    }


def test_missing_version_means_1_1_and_lists_default():
    assert results_manifest.parse({}).to_dict() == {"version": "1.1", "output_data": [], "parse_results": []}


def test_full_1_1_manifest_round_trips():
    doc = {
        "version": "1.1",
        "output_data": [
            {
                "name": "one",
                "file": {
                    "path": "/o/a.tif",
                    "geo_metadata": {"data_started": "2015-05-15T10:34:12.000Z", "geo_json": GEO_JSON},
                },
            },
            {"name": "many", "files": [{"path": "/o/b"}, {"path": "/o/c"}]},
        ],
        "parse_results": [
            {"filename": "in.h5", "data_types": [], "new_workspace_path": "a/b", "gis_data_path": "/o/in.geojson"}
        ],
        "info": {"anything": 1},
        "errors": {},
    }
    manifest = results_manifest.parse(doc)
    assert manifest.to_dict() == doc
    assert results_manifest.parse(manifest.to_dict()) == manifest
    assert [f.path for f in manifest.get_output("many").files] == ["/o/b", "/o/c"]


def test_1_0_is_upgraded_to_1_1():
    old = {
        "version": "1.0",
        "files": [
            {"name": "single", "path": "/o/a.csv"},
            {"name": "multi", "paths": ["/o/b.csv", "/o/c.csv"]},
        ],
        "parse_results": [
            {
                "filename": "in.h5",
                "data_started": "2015-05-15T10:34:12Z",
                "data_ended": "2015-05-15T11:36:12+01:00",
                "data_types": ["H5"],
                "gis_data_path": "/o/in.geojson",
            }
        ],
        "errors": {},
    }
    assert results_manifest.parse(old).to_dict() == {
        "version": "1.1",
        "output_data": [
            {"name": "single", "file": {"path": "/o/a.csv"}},
            {"name": "multi", "files": [{"path": "/o/b.csv"}, {"path": "/o/c.csv"}]},
        ],
        "parse_results": [
            {
                "filename": "in.h5",
                "data_types": ["H5"],
                "geo_metadata": {"data_started": "2015-05-15T10:34:12.000Z", "data_ended": "2015-05-15T10:36:12.000Z"},
                "gis_data_path": "/o/in.geojson",
            }
        ],
        "errors": {},
    }


def test_1_1_times_beside_filename_move_into_geo_metadata():
    manifest = results_manifest.parse({"parse_results": [{"filename": "f", "data_ended": "2015-05-15T10:36:12Z"}]})
    assert manifest.to_dict()["parse_results"][0]["geo_metadata"] == {"data_ended": "2015-05-15T10:36:12.000Z"}


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"version": "1.2"}, "version"),
        ({"files": []}, "files"),  # 1.0 field in a (default) 1.1 manifest
        ({"output_data": [{"file": {"path": "/a"}}]}, "output_data[0].name"),
        ({"output_data": [{"name": "o"}]}, "output_data[0]"),
        ({"output_data": [{"name": "o", "file": {"path": "/a"}, "files": []}]}, "output_data[0]"),
        ({"output_data": [{"name": "o", "file": {}}]}, "output_data[0].file.path"),
        (
            {"output_data": [{"name": "o", "file": {"path": "/a"}}, {"name": "o", "file": {"path": "/b"}}]},
            "output_data[1].name",
        ),
        (
            {"output_data": [{"name": "o", "files": [{"path": "/a", "geo_metadata": {"data_started": "yesterday"}}]}]},
            "output_data[0].files[0].geo_metadata.data_started",
        ),
        (
            {"output_data": [{"name": "o", "file": {"path": "/a", "geo_metadata": {"geo_json": "POINT(0 0)"}}}]},
            "output_data[0].file.geo_metadata.geo_json",
        ),
        ({"parse_results": [{"data_types": []}]}, "parse_results[0].filename"),
        ({"parse_results": [{"filename": "f", "data_types": "H5"}]}, "parse_results[0].data_types"),
        (
            {
                "parse_results": [
                    {
                        "filename": "f",
                        "geo_metadata": {"data_started": "2015-05-15T10:36:12Z", "data_ended": "2015-05-15T10:34:12Z"},
                    }
                ]
            },
            "parse_results[0].geo_metadata.data_ended",
        ),
        (
            {
                "parse_results": [
                    {
                        "filename": "f",
                        "data_started": "2015-05-15T10:36:12Z",
                        "geo_metadata": {"data_started": "2015-05-15T10:36:12Z"},
                    }
                ]
            },
            "parse_results[0].data_started",
        ),
        ({"parse_results": [{"filename": "f", "data_started": "soon"}]}, "parse_results[0].data_started"),
        ({"info": []}, "info"),
    ],
)
def test_invalid_1_1_manifests_name_the_field(doc, field):
    assert rejected(doc).field == field


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"version": "1.0", "output_data": []}, "output_data"),
        ({"version": "1.0", "files": [{"name": "o"}]}, "files[0]"),
        ({"version": "1.0", "files": [{"name": "o", "path": "/a", "paths": ["/b"]}]}, "files[0]"),
        ({"version": "1.0", "files": [{"path": "/a"}]}, "files[0].name"),
        (
            {"version": "1.0", "parse_results": [{"filename": "f", "new_workspace_path": "x"}]},
            "parse_results[0].new_workspace_path",
        ),
        ({"version": "1.0", "parse_results": [{"filename": "f", "data_ended": "nope"}]}, "parse_results[0].data_ended"),
    ],
)
def test_invalid_1_0_manifests_name_the_field(doc, field):
    assert rejected(doc).field == field
