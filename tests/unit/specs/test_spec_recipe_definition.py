"""Recipe Definition 1.0: structure, cycles, order, and fitting the job types' interfaces."""

import copy

import pytest

from scale.exceptions import ValidationError
from scale.specs import job_interface, recipe_definition

# Reference, "Recipe Definition": the two job interfaces and the recipe joining them.
GEOTIFF_MAKER = {
    "version": "1.0",
    "command": "python make_geotiff.py",
    "command_arguments": "${image} ${georeference_data} ${job_output_dir}",
    "input_data": [
        {"name": "image", "type": "file", "media_types": ["image/png"]},
        {"name": "georeference_data", "type": "file", "media_types": ["text/csv"]},
    ],
    "output_data": [{"name": "geo_image", "type": "file", "media_type": "image/tiff"}],
}

POINT_DETECTOR = {
    "version": "1.0",
    "command": "python detect_points.py",
    "command_arguments": "${image} ${job_output_dir}",
    "input_data": [{"name": "image", "type": "file", "media_types": ["image/tiff"]}],
    "output_data": [{"name": "geo_image", "type": "file", "media_type": "application/vnd.geo+json"}],
}

EXAMPLE = {
    "version": "1.0",
    "input_data": [
        {"name": "image", "type": "file", "media_types": ["image/png"]},
        {"name": "georeference_data", "type": "file", "media_types": ["text/csv"]},
    ],
    "jobs": [
        {
            "name": "make_geotiff",
            "job_type": {"name": "geotiff-maker", "version": "1.2.3"},
            "recipe_inputs": [
                {"recipe_input": "image", "job_input": "image"},
                {"recipe_input": "georeference_data", "job_input": "georeference_data"},
            ],
        },
        {
            "name": "detect_points",
            "job_type": {"name": "point-detector", "version": "4.5.6"},
            "dependencies": [{"name": "make_geotiff", "connections": [{"output": "geo_image", "input": "image"}]}],
        },
    ],
}

JOB_TYPES = {
    ("geotiff-maker", "1.2.3"): job_interface.parse(GEOTIFF_MAKER),
    ("point-detector", "4.5.6"): job_interface.parse(POINT_DETECTOR),
}


def lookup(name, version):
    return JOB_TYPES.get((name, version))


def rejected(doc):
    with pytest.raises(ValidationError) as caught:
        recipe_definition.parse(doc)
    return caught.value


def rejected_by_types(doc, job_types=None):
    types = {**JOB_TYPES, **(job_types or {})}
    definition = recipe_definition.parse(doc)
    with pytest.raises(ValidationError) as caught:
        recipe_definition.check_job_types(definition, lambda n, v: types.get((n, v)))
    return caught.value


def example(**changes):
    doc = copy.deepcopy(EXAMPLE)
    doc.update(changes)
    return doc


def job(name, deps=(), recipe_inputs=(), type_name="point-detector", version="4.5.6"):
    return {
        "name": name,
        "job_type": {"name": type_name, "version": version},
        "recipe_inputs": [{"recipe_input": r, "job_input": j} for r, j in recipe_inputs],
        "dependencies": [{"name": d} for d in deps],
    }


def test_reference_example_parses_and_fits_its_job_types():
    definition = recipe_definition.parse(EXAMPLE)
    recipe_definition.check_job_types(definition, lookup)
    assert definition.topological_order() == ["make_geotiff", "detect_points"]
    assert definition.get_job("detect_points").dependencies[0].connections[0].input == "image"
    assert definition.get_input("image").media_types == ("image/png",)


def test_defaults_are_applied():
    normalized = recipe_definition.parse(EXAMPLE).to_dict()
    assert normalized["input_data"][0]["required"] is True
    assert normalized["jobs"][0]["dependencies"] == []
    assert normalized["jobs"][1]["recipe_inputs"] == []
    bare = recipe_definition.parse(
        {
            "jobs": [
                {"name": "a", "job_type": {"name": "t", "version": "1"}, "dependencies": [{"name": "a2"}]},
                {"name": "a2", "job_type": {"name": "t", "version": "1"}},
            ]
        }
    )
    assert bare.to_dict()["version"] == "1.0"
    assert bare.to_dict()["input_data"] == []
    assert bare.to_dict()["jobs"][0]["dependencies"] == [{"name": "a2", "connections": []}]


def test_import_example_with_no_jobs_is_valid():
    doc = {
        "version": "1.0",
        "input_data": [{"media_types": ["image/png"], "required": True, "type": "file", "name": "input_file"}],
        "jobs": [],
    }
    assert recipe_definition.parse(doc).to_dict() == doc


def test_parse_is_idempotent_on_its_output():
    definition = recipe_definition.parse(EXAMPLE)
    assert recipe_definition.parse(definition.to_dict()) == definition


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (example(version="1.1"), "version"),
        ({"input_data": []}, "jobs"),
        (example(jobs=[{"name": "a"}]), "jobs[0].job_type"),
        (example(jobs=[{"name": "a", "job_type": {"name": "t"}}]), "jobs[0].job_type.version"),
        (example(jobs=[{"name": "a/b", "job_type": {"name": "t", "version": "1"}}]), "jobs[0].name"),
        (example(jobs=[job("a"), job("a")]), "jobs[1].name"),
        (example(input_data=[{"name": "x", "type": "file"}, {"name": "x", "type": "files"}]), "input_data[1].name"),
        (example(input_data=[{"name": "x", "type": "blob"}]), "input_data[0].type"),
        (example(jobs=[job("a", recipe_inputs=[("nope", "image")])]), "jobs[0].recipe_inputs[0].recipe_input"),
        (
            example(jobs=[job("a", recipe_inputs=[("image", "image"), ("georeference_data", "image")])]),
            "jobs[0].recipe_inputs[1].job_input",
        ),
        (example(jobs=[job("a", deps=["ghost"])]), "jobs[0].dependencies[0].name"),
        (example(jobs=[job("a"), job("b", deps=["a", "a"])]), "jobs[1].dependencies[1].name"),
        (
            example(jobs=[{**job("a"), "dependencies": [{"name": "b", "connections": [{"output": "o"}]}]}]),
            "jobs[0].dependencies[0].connections[0].input",
        ),
        (example(jobs=[{**job("a"), "extra": True}]), "jobs[0].extra"),
    ],
)
def test_invalid_definitions_name_the_field(doc, field):
    assert rejected(doc).field == field


def test_self_dependency_is_a_cycle():
    error = rejected(example(jobs=[job("a", deps=["a"])]))
    assert error.field == "jobs[0].dependencies"
    assert "cycle" in error.problem


def test_cycle_names_a_job_on_the_cycle():
    # c depends on the a <-> b cycle but is not on it; the error must name a or b.
    error = rejected(example(jobs=[job("c", deps=["a"]), job("a", deps=["b"]), job("b", deps=["a"])]))
    assert error.field == "jobs[1].dependencies"
    assert "'a'" in error.problem
    assert "a -> b -> a" in error.problem


def test_longer_cycle():
    error = rejected(example(jobs=[job("a", deps=["c"]), job("b", deps=["a"]), job("c", deps=["b"])]))
    assert error.field == "jobs[0].dependencies"


def test_topological_order_puts_dependencies_first_and_keeps_document_order():
    definition = recipe_definition.parse(
        example(
            jobs=[
                job("d", deps=["b", "c"]),
                job("b", deps=["a"]),
                job("c"),
                job("a"),
            ]
        )
    )
    assert definition.topological_order() == ["c", "a", "b", "d"]


# --- against job interfaces ------------------------------------------------------------------


def connected(output="geo_image", input_="image"):
    doc = copy.deepcopy(EXAMPLE)
    doc["jobs"][1]["dependencies"][0]["connections"] = [{"output": output, "input": input_}]
    return doc


def test_unknown_job_type_version():
    doc = example()
    doc["jobs"][1]["job_type"]["version"] = "9.9.9"
    assert rejected_by_types(doc).field == "jobs[1].job_type"


def test_recipe_input_to_unknown_job_input():
    doc = example()
    doc["jobs"][0]["recipe_inputs"][1]["job_input"] = "nope"
    assert rejected_by_types(doc).field == "jobs[0].recipe_inputs[1].job_input"


def test_connection_from_unknown_output():
    assert rejected_by_types(connected(output="nope")).field == "jobs[1].dependencies[0].connections[0].output"


def test_connection_to_unknown_input():
    assert rejected_by_types(connected(input_="nope")).field == "jobs[1].dependencies[0].connections[0].input"


def test_output_media_type_mismatch():
    maker = copy.deepcopy(GEOTIFF_MAKER)
    maker["output_data"][0]["media_type"] = "image/jpeg"
    error = rejected_by_types(EXAMPLE, {("geotiff-maker", "1.2.3"): job_interface.parse(maker)})
    assert error.field == "jobs[1].dependencies[0].connections[0].input"
    assert "image/jpeg" in error.problem


def test_recipe_input_media_type_mismatch():
    doc = example()
    doc["input_data"][0]["media_types"] = ["image/png", "image/gif"]
    error = rejected_by_types(doc)
    assert error.field == "jobs[0].recipe_inputs[0].job_input"
    assert "image/gif" in error.problem


def test_unknown_media_types_are_not_a_mismatch():
    doc = example()
    doc["input_data"][0]["media_types"] = []
    maker = copy.deepcopy(GEOTIFF_MAKER)
    del maker["output_data"][0]["media_type"]
    types = {**JOB_TYPES, ("geotiff-maker", "1.2.3"): job_interface.parse(maker)}
    recipe_definition.check_job_types(recipe_definition.parse(doc), lambda n, v: types.get((n, v)))


def test_property_cannot_feed_a_file_input():
    doc = example()
    doc["input_data"][0] = {"name": "image", "type": "property"}
    assert rejected_by_types(doc).field == "jobs[0].recipe_inputs[0].job_input"


def test_files_output_cannot_feed_a_file_input():
    maker = copy.deepcopy(GEOTIFF_MAKER)
    maker["output_data"][0]["type"] = "files"
    error = rejected_by_types(EXAMPLE, {("geotiff-maker", "1.2.3"): job_interface.parse(maker)})
    assert error.field == "jobs[1].dependencies[0].connections[0].input"


def test_file_output_may_feed_a_files_input():
    detector = copy.deepcopy(POINT_DETECTOR)
    detector["input_data"][0]["type"] = "files"
    types = {**JOB_TYPES, ("point-detector", "4.5.6"): job_interface.parse(detector)}
    recipe_definition.check_job_types(recipe_definition.parse(EXAMPLE), lambda n, v: types.get((n, v)))


def test_required_job_input_left_unconnected():
    doc = example()
    del doc["jobs"][0]["recipe_inputs"][1]
    error = rejected_by_types(doc)
    assert error.field == "jobs[0]"
    assert "georeference_data" in error.problem


def test_optional_job_input_may_be_left_unconnected():
    maker = copy.deepcopy(GEOTIFF_MAKER)
    maker["input_data"][1]["required"] = False
    doc = example()
    del doc["jobs"][0]["recipe_inputs"][1]
    types = {**JOB_TYPES, ("geotiff-maker", "1.2.3"): job_interface.parse(maker)}
    recipe_definition.check_job_types(recipe_definition.parse(doc), lambda n, v: types.get((n, v)))


def test_optional_recipe_input_cannot_feed_a_required_job_input():
    doc = example()
    doc["input_data"][1]["required"] = False
    assert rejected_by_types(doc).field == "jobs[0]"


def test_optional_output_cannot_feed_a_required_job_input():
    maker = copy.deepcopy(GEOTIFF_MAKER)
    maker["output_data"][0]["required"] = False
    assert rejected_by_types(EXAMPLE, {("geotiff-maker", "1.2.3"): job_interface.parse(maker)}).field == "jobs[1]"
