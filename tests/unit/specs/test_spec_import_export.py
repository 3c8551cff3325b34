"""Import/Export Configuration 1.0: structure, and embedded documents with their field paths."""

import copy

import pytest

from scale.exceptions import ValidationError
from scale.specs import import_export

# Reference, "Import/Export" example (the reference omits the comma after "interface": {...}).
EXAMPLE = {
    "version": "1.0",
    "errors": [{"name": "my-error", "title": "My Error", "description": "My error description.", "category": "DATA"}],
    "job_types": [
        {
            "name": "my-job",
            "version": "1.0.0",
            "title": "My Job",
            "description": "My job description.",
            "category": "example",
            "author_name": None,
            "author_url": None,
            "is_operational": True,
            "icon_code": "f013",
            "docker_privileged": False,
            "docker_image": None,
            "priority": 100,
            "timeout": 1800,
            "max_tries": 3,
            "cpus_required": 1.0,
            "mem_required": 64.0,
            "disk_out_const_required": 64.0,
            "disk_out_mult_required": 0.0,
            "interface": {
                "version": "1.0",
                "command": "my-cmd",
                "command_arguments": "${input_file} ${job_output_dir}",
                "input_data": [{"media_types": ["image/png"], "required": True, "type": "file", "name": "input_file"}],
                "output_data": [
                    {"media_type": "image/jpg", "required": True, "type": "file", "name": "my-output-file"}
                ],
                "shared_resources": [],
            },
            "error_mapping": {"version": "1.0", "exit_codes": {"1": "my-error"}},
            "trigger_rule": {
                "type": "PARSE",
                "name": "my-rule",
                "configuration": {
                    "version": "1.0",
                    "data": {"workspace_name": "products", "input_data_name": "input_file"},
                    "condition": {"media_type": "image/png", "data_types": []},
                },
            },
        }
    ],
    "recipe_types": [
        {
            "name": "my-recipe",
            "version": "1.0.0",
            "title": "My Recipe",
            "description": "My recipe description.",
            "definition": {
                "version": "1.0",
                "input_data": [{"media_types": ["image/png"], "required": True, "type": "file", "name": "input_file"}],
                "jobs": [],
            },
            "trigger_rule": {
                "type": "PARSE",
                "name": "my-rule",
                "configuration": {
                    "version": "1.0",
                    "data": {"workspace_name": "products", "input_data_name": "input_file"},
                    "condition": {"media_type": "image/png", "data_types": []},
                },
            },
        }
    ],
}


def test_reference_example():
    config = import_export.parse(EXAMPLE)
    assert [e.name for e in config.errors] == ["my-error"]
    job_type = config.job_types[0]
    assert (job_type.name, job_type.version) == ("my-job", "1.0.0")
    assert job_type.interface.get_input("input_file").media_types == ("image/png",)
    assert job_type.error_mapping.error_for_exit_code(1) == "my-error"
    assert job_type.trigger_rule.configuration.workspace_name == "products"
    assert dict(job_type.attributes)["priority"] == 100
    assert config.recipe_types[0].definition.jobs == ()
    normalized = config.to_dict()
    assert normalized["errors"] == EXAMPLE["errors"]
    assert normalized["job_types"][0]["interface"] == EXAMPLE["job_types"][0]["interface"]
    assert normalized["job_types"][0]["trigger_rule"]["is_active"] is True
    assert import_export.parse(normalized) == config


def test_empty_configuration_defaults():
    assert import_export.parse({}).to_dict() == {"version": "1.0", "errors": [], "job_types": [], "recipe_types": []}


def test_read_only_export_fields_are_ignored_and_nulls_mean_none():
    doc = {
        "job_types": [
            {
                "name": "j",
                "version": "1",
                "id": 4,
                "is_system": False,
                "uses_docker": True,
                "revision_num": 2,
                "interface": {"command": "c", "command_arguments": ""},
                "error_mapping": None,
                "trigger_rule": None,
            }
        ],
        "errors": [{"name": "e", "id": 1, "created": "2015-03-11T00:00:00Z"}],
    }
    config = import_export.parse(doc)
    assert config.job_types[0].attributes == ()
    assert config.job_types[0].error_mapping is None
    assert config.to_dict()["errors"] == [{"name": "e"}]


def changed(path, value):
    doc = copy.deepcopy(EXAMPLE)
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (changed(["version"], "2.0"), "version"),
        (changed(["extra"], []), "extra"),
        (changed(["errors", 0, "category"], "USER"), "errors[0].category"),
        (changed(["errors", 0, "name"], KeyError), "errors[0].name"),
        (changed(["job_types", 0, "interface"], KeyError), "job_types[0].interface"),
        # A job type's name becomes a folder of its products' paths: never `..` or `a/b`.
        (changed(["job_types", 0, "name"], ".."), "job_types[0].name"),
        (changed(["job_types", 0, "name"], "a/b"), "job_types[0].name"),
        (changed(["recipe_types", 0, "name"], "."), "recipe_types[0].name"),
        (changed(["job_types", 0, "priority"], "high"), "job_types[0].priority"),
        (changed(["job_types", 0, "cpus_required"], -1), "job_types[0].cpus_required"),
        (
            changed(["job_types", 0, "interface", "command_arguments"], "${nope}"),
            "job_types[0].interface.command_arguments",
        ),
        (
            changed(["job_types", 0, "interface", "input_data", 0, "type"], "blob"),
            "job_types[0].interface.input_data[0].type",
        ),
        (
            changed(["job_types", 0, "error_mapping", "exit_codes"], {"x": "e"}),
            "job_types[0].error_mapping.exit_codes.x",
        ),
        (changed(["job_types", 0, "trigger_rule", "type"], "SOMETIMES"), "job_types[0].trigger_rule.type"),
        (
            changed(["job_types", 0, "trigger_rule", "configuration", "data"], {}),
            "job_types[0].trigger_rule.configuration.data.input_data_name",
        ),
        (
            changed(["recipe_types", 0, "definition", "jobs"], [{"name": "a"}]),
            "recipe_types[0].definition.jobs[0].job_type",
        ),
        (changed(["recipe_types", 0, "definition"], KeyError), "recipe_types[0].definition"),
        (
            changed(["recipe_types", 0, "trigger_rule", "configuration", "version"], "7"),
            "recipe_types[0].trigger_rule.configuration.version",
        ),
    ],
)
def test_invalid_configurations_name_the_field(doc, field):
    with pytest.raises(ValidationError) as caught:
        import_export.parse(doc)
    assert caught.value.field == field


def test_field_path_points_at_the_right_job_type():
    doc = copy.deepcopy(EXAMPLE)
    second = copy.deepcopy(doc["job_types"][0])
    second["version"] = "2.0.0"
    second["interface"]["command_arguments"] = "${missing}"
    doc["job_types"].append(second)
    with pytest.raises(ValidationError) as caught:
        import_export.parse(doc)
    assert caught.value.field == "job_types[1].interface.command_arguments"


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("errors", "errors[1]"),
        ("job_types", "job_types[1]"),
        ("recipe_types", "recipe_types[1]"),
    ],
)
def test_duplicates_are_refused(section, field):
    doc = copy.deepcopy(EXAMPLE)
    doc[section].append(copy.deepcopy(doc[section][0]))
    with pytest.raises(ValidationError) as caught:
        import_export.parse(doc)
    assert caught.value.field == field
