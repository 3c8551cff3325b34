"""Recipe Definition Specification 1.0: a recipe's inputs, jobs and how they are connected.

`parse` checks the document alone: unique input and job names, known recipe inputs and
dependency names, no job input fed twice, no dependency cycle. `check_job_types` then checks it
against the job types' interfaces. The reference is silent on how types and media types must
match across a connection; decided here, and checked only where a mismatch is certain:

* Types: property -> property; file -> file or files (a files input takes a single file, as
  job data lets a files input take one `file_id`); files -> files only.
* Media types: a recipe input that lists media types may feed a job input only if the job
  input accepts every one of them; an output with a `media_type` may feed a job input only if
  the job input's `media_types` contain it. An empty list (or no `media_type`) on either side
  proves nothing here; the files are checked when data is queued.
* A required job input must be fed, and not by an optional recipe input or an optional
  (`required: false`) output, since then the job could be left without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scale.exceptions import ValidationError
from scale.specs._inputs import INPUT_SCHEMA, InputSpec, check_unique, inputs_from
from scale.specs._schema import NAME_SCHEMA, validate_document
from scale.specs.job_interface import JobInterface, OutputSpec

CURRENT_VERSION = "1.0"

_REQUIRED_STRING: dict[str, Any] = {"type": "string", "minLength": 1}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["jobs"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "string"},
        "input_data": {"type": "array", "items": INPUT_SCHEMA},
        "jobs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "job_type"],
                "additionalProperties": False,
                "properties": {
                    "name": NAME_SCHEMA,
                    "job_type": {
                        "type": "object",
                        "required": ["name", "version"],
                        "additionalProperties": False,
                        "properties": {"name": _REQUIRED_STRING, "version": _REQUIRED_STRING},
                    },
                    "recipe_inputs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["recipe_input", "job_input"],
                            "additionalProperties": False,
                            "properties": {"recipe_input": _REQUIRED_STRING, "job_input": _REQUIRED_STRING},
                        },
                    },
                    "dependencies": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "additionalProperties": False,
                            "properties": {
                                "name": _REQUIRED_STRING,
                                "connections": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["output", "input"],
                                        "additionalProperties": False,
                                        "properties": {"output": _REQUIRED_STRING, "input": _REQUIRED_STRING},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}

# Which input types each source type may feed (see the module docstring).
_FEEDS = {"property": {"property"}, "file": {"file", "files"}, "files": {"files"}}


@dataclass(frozen=True)
class RecipeInputConnection:
    recipe_input: str
    job_input: str


@dataclass(frozen=True)
class Connection:
    output: str
    input: str


@dataclass(frozen=True)
class Dependency:
    name: str
    connections: tuple[Connection, ...] = ()


@dataclass(frozen=True)
class RecipeJob:
    name: str
    job_type_name: str
    job_type_version: str
    recipe_inputs: tuple[RecipeInputConnection, ...] = ()
    dependencies: tuple[Dependency, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "job_type": {"name": self.job_type_name, "version": self.job_type_version},
            "recipe_inputs": [{"recipe_input": c.recipe_input, "job_input": c.job_input} for c in self.recipe_inputs],
            "dependencies": [
                {"name": d.name, "connections": [{"output": c.output, "input": c.input} for c in d.connections]}
                for d in self.dependencies
            ],
        }


@dataclass(frozen=True)
class RecipeDefinition:
    inputs: tuple[InputSpec, ...] = ()
    jobs: tuple[RecipeJob, ...] = ()
    version: str = CURRENT_VERSION

    def get_input(self, name: str) -> InputSpec | None:
        return next((spec for spec in self.inputs if spec.name == name), None)

    def get_job(self, name: str) -> RecipeJob | None:
        return next((job for job in self.jobs if job.name == name), None)

    def topological_order(self) -> list[str]:
        """Job names, each after every job it depends on; ties keep document order."""
        return _order(self.jobs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "input_data": [spec.to_dict() for spec in self.inputs],
            "jobs": [job.to_dict() for job in self.jobs],
        }


def parse(doc: object) -> RecipeDefinition:
    """Validate a recipe definition document on its own; raises ValidationError naming the field."""
    version = validate_document(doc, {CURRENT_VERSION: SCHEMA}, CURRENT_VERSION)
    assert isinstance(doc, dict)
    input_items = doc.get("input_data", [])
    check_unique((f"input_data[{i}].name", item["name"]) for i, item in enumerate(input_items))
    check_unique((f"jobs[{i}].name", item["name"]) for i, item in enumerate(doc["jobs"]))
    definition = RecipeDefinition(
        inputs=inputs_from(input_items),
        jobs=tuple(_job(item) for item in doc["jobs"]),
        version=version,
    )
    _check_structure(definition)
    _order(definition.jobs)  # raises on a cycle
    return definition


def check_job_types(definition: RecipeDefinition, lookup: Callable[[str, str], JobInterface | None]) -> None:
    """Check the definition against its job types' interfaces, `lookup(name, version)` giving
    each (None when unknown). Raises ValidationError naming the field (see module docstring)."""
    interfaces: dict[str, JobInterface] = {}
    for i, job in enumerate(definition.jobs):
        interface = lookup(job.job_type_name, job.job_type_version)
        if interface is None:
            raise ValidationError(
                f"jobs[{i}].job_type", f"there is no job type {job.job_type_name!r} version {job.job_type_version!r}"
            )
        interfaces[job.name] = interface
    for i, job in enumerate(definition.jobs):
        interface = interfaces[job.name]
        fed: dict[str, bool] = {}  # job input name -> whether its source is guaranteed
        for j, link in enumerate(job.recipe_inputs):
            where = f"jobs[{i}].recipe_inputs[{j}]"
            target = _job_input(interface, link.job_input, f"{where}.job_input")
            source = definition.get_input(link.recipe_input)
            assert source is not None  # parse() checked recipe input names
            _check_types(source.type, target, f"{where}.job_input")
            unaccepted = [m for m in source.media_types if target.media_types and m not in target.media_types]
            if unaccepted:
                raise ValidationError(
                    f"{where}.job_input", f"media type {unaccepted[0]!r} is not accepted by job input {target.name!r}"
                )
            fed[target.name] = source.required
        for j, dependency in enumerate(job.dependencies):
            upstream = interfaces[dependency.name]
            for k, connection in enumerate(dependency.connections):
                where = f"jobs[{i}].dependencies[{j}].connections[{k}]"
                output = _job_output(upstream, connection.output, dependency.name, f"{where}.output")
                target = _job_input(interface, connection.input, f"{where}.input")
                _check_types(output.type, target, f"{where}.input")
                if output.media_type and target.media_types and output.media_type not in target.media_types:
                    raise ValidationError(
                        f"{where}.input",
                        f"media type {output.media_type!r} of output {output.name!r} "
                        f"is not accepted by job input {target.name!r}",
                    )
                fed[target.name] = output.required
        for spec in interface.inputs:
            if spec.required and spec.name not in fed:
                raise ValidationError(
                    f"jobs[{i}]", f"required input {spec.name!r} of job {job.name!r} is not connected"
                )
            if spec.required and not fed[spec.name]:
                raise ValidationError(
                    f"jobs[{i}]", f"required input {spec.name!r} of job {job.name!r} is fed by an optional source"
                )


def _job(item: dict[str, Any]) -> RecipeJob:
    return RecipeJob(
        name=item["name"],
        job_type_name=item["job_type"]["name"],
        job_type_version=item["job_type"]["version"],
        recipe_inputs=tuple(
            RecipeInputConnection(c["recipe_input"], c["job_input"]) for c in item.get("recipe_inputs", [])
        ),
        dependencies=tuple(
            Dependency(d["name"], tuple(Connection(c["output"], c["input"]) for c in d.get("connections", [])))
            for d in item.get("dependencies", [])
        ),
    )


def _check_structure(definition: RecipeDefinition) -> None:
    """References resolve by name, and no job input is fed twice."""
    job_names = {job.name for job in definition.jobs}
    for i, job in enumerate(definition.jobs):
        fed: set[str] = set()
        for j, link in enumerate(job.recipe_inputs):
            if definition.get_input(link.recipe_input) is None:
                raise ValidationError(
                    f"jobs[{i}].recipe_inputs[{j}].recipe_input", f"there is no recipe input {link.recipe_input!r}"
                )
            if link.job_input in fed:
                raise ValidationError(f"jobs[{i}].recipe_inputs[{j}].job_input", f"{link.job_input!r} is fed twice")
            fed.add(link.job_input)
        depended: set[str] = set()
        for j, dependency in enumerate(job.dependencies):
            if dependency.name not in job_names:
                raise ValidationError(f"jobs[{i}].dependencies[{j}].name", f"there is no job {dependency.name!r}")
            if dependency.name in depended:
                raise ValidationError(f"jobs[{i}].dependencies[{j}].name", f"{dependency.name!r} is listed twice")
            depended.add(dependency.name)
            for k, connection in enumerate(dependency.connections):
                if connection.input in fed:
                    raise ValidationError(
                        f"jobs[{i}].dependencies[{j}].connections[{k}].input", f"{connection.input!r} is fed twice"
                    )
                fed.add(connection.input)


def _order(jobs: tuple[RecipeJob, ...]) -> list[str]:
    """Kahn's algorithm in document order; ValidationError naming a job on a cycle."""
    remaining = {job.name: {d.name for d in job.dependencies} for job in jobs}
    order: list[str] = []
    while remaining:
        ready = [name for name, needs in remaining.items() if not needs]
        if not ready:
            cycle = _cycle(next(iter(remaining)), remaining)
            index, name = next((i, job.name) for i, job in enumerate(jobs) if job.name in cycle)
            path = " -> ".join(cycle + [cycle[0]])
            raise ValidationError(f"jobs[{index}].dependencies", f"job {name!r} is in a dependency cycle: {path}")
        for name in ready:
            del remaining[name]
            for needs in remaining.values():
                needs.discard(name)
        order.extend(ready)
    return order


def _cycle(start: str, remaining: dict[str, set[str]]) -> list[str]:
    """The jobs of one cycle, found by walking unresolved dependencies from `start` (every
    remaining job has one) until a name repeats."""
    path = [start]
    while True:
        step = min(remaining[path[-1]])
        if step in path:
            return path[path.index(step) :]
        path.append(step)


def _job_input(interface: JobInterface, name: str, field: str) -> InputSpec:
    spec = interface.get_input(name)
    if spec is None:
        raise ValidationError(field, f"the job type has no input named {name!r}")
    return spec


def _job_output(interface: JobInterface, name: str, job_name: str, field: str) -> OutputSpec:
    spec = interface.get_output(name)
    if spec is None:
        raise ValidationError(field, f"job {job_name!r} has no output named {name!r}")
    return spec


def _check_types(source_type: str, target: InputSpec, field: str) -> None:
    if target.type not in _FEEDS[source_type]:
        raise ValidationError(field, f"a {source_type} cannot feed the {target.type} input {target.name!r}")
