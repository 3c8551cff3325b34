"""Model factories shared by the queue, job and execution tests: rows made directly in a
test's session, so each test states only what it is about."""

from __future__ import annotations

from sqlalchemy import func, select

from scale.definitions import job_types, recipe_types
from scale.definitions.commands import JobTypeCreate, JobTypeEdit, RecipeTypeCreate
from scale.models.errors import Error
from scale.models.files import ScaleFile
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, Queue
from scale.models.nodes import Node
from scale.models.recipes import RecipeType
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue import factory, transitions
from scale.specs import job_data
from scale.timeutil import utcnow

MIB = 1024 * 1024


def interface(media_types=("image/png",), outputs=()):
    return {"version": "1.0", "command": "run", "command_arguments": "${input_file} ${job_output_dir}",
            "input_data": [{"name": "input_file", "type": "file", "media_types": list(media_types)},
                           {"name": "level", "type": "property", "required": False}],
            "output_data": [{"name": name, "type": "file"} for name in outputs], "shared_resources": []}


def make_job_type(db, name="algo", **fields) -> JobType:
    now = utcnow()
    values = {"version": "1.0", "interface": interface(), "priority": 100, "timeout": 600, "max_tries": 3,
              "cpus_required": 1.0, "mem_required": 64.0, "disk_out_const_required": 10.0,
              "disk_out_mult_required": 2.0, "category": "test", "created": now, "last_modified": now, **fields}
    job_type = JobType(name=name, **values)
    db.add(job_type)
    db.flush()
    db.add(JobTypeRevision(job_type_id=job_type.id, revision_num=job_type.revision_num or 1,
                           interface=job_type.interface, created=now))
    db.flush()
    return job_type


def create_job_type(db, body: dict) -> JobType:
    """A job type created as the API creates one, from a create body (defaults, revision,
    trigger rule and all); `make_job_type` writes the rows directly."""
    return job_types.create_job_type(db, JobTypeCreate.from_json(body))


def edit_job_type(db, job_type_id: int, body: dict) -> JobType:
    return job_types.edit_job_type(db, job_type_id, JobTypeEdit.from_json(body))


def create_recipe_type(db, body: dict) -> RecipeType:
    """A recipe type created as the API creates one, from a create body."""
    return recipe_types.create_recipe_type(db, RecipeTypeCreate.from_json(body))


def make_workspace(db, name="products", is_active=True) -> Workspace:
    workspace = Workspace(name=name, is_active=is_active, base_url="http://files/ws",
                          json_config={"version": "1.0", "broker": {"type": "host", "host_path": "/tmp/ws"}})
    db.add(workspace)
    db.flush()
    return workspace


def make_file(db, workspace, *, media_type="image/png", size=2 * MIB, **fields) -> ScaleFile:
    values = {"file_type": "SOURCE", "file_name": "in.png", "file_path": "in/in.png", "uuid": "0" * 32, **fields}
    scale_file = ScaleFile(media_type=media_type, file_size=size, workspace_id=workspace.id, **values)
    db.add(scale_file)
    db.flush()
    return scale_file


def make_node(db, hostname="node-1") -> Node:
    node = Node(hostname=hostname, port=5051)
    db.add(node)
    db.flush()
    return node


def new_job(db, job_type, data=None, *, event=None, **fields) -> Job:
    """A PENDING job of `job_type` made as Scale makes one (`scale.queue.factory.new_job`), then
    given `fields` (a status, counts, times) for the state a test needs; added, not queued."""
    revision = db.scalars(select(JobTypeRevision).where(JobTypeRevision.job_type_id == job_type.id)
                          .order_by(JobTypeRevision.revision_num.desc())).first()
    event = event or TriggerEvent(type="TEST", description={}, occurred=utcnow())
    job = factory.new_job(job_type, revision, event, job_data.parse(data or {"version": "1.0"}), utcnow())
    for name, value in fields.items():
        setattr(job, name, value)
    db.add(job)
    db.flush()
    return job


def queued_job(db, job_type, data=None) -> Job:
    job = new_job(db, job_type, data)
    transitions.queue_job(db, job)
    return job


def run_job(db, job, node) -> JobExecution:
    """Schedule `job`'s queue row on `node` and start its execution."""
    row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    exe = transitions.schedule_execution(db, row, node_id=node.id, cpus=1.0, mem=64.0, disk_in=1.0, disk_out=2.0)
    transitions.start_execution(db, exe.id, command_arguments="a b", stdout_path="/tmp/o", stderr_path="/tmp/e")
    return exe


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def make_error(db, name, category) -> Error:
    error = Error(name=name, category=category)
    db.add(error)
    db.flush()
    return error
