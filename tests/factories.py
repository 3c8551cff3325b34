"""Factories shared by every test: rows made directly in a test's session, rows made as the API
makes them (through the definitions services), and request bodies, so each test states only
what it is about. The one home of job-type factories; test modules define none of their own."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scale.definitions import job_types, recipe_types
from scale.definitions.commands import JobTypeCreate, JobTypeEdit, RecipeTypeCreate
from scale.models.errors import Error
from scale.models.files import ScaleFile, ScaleFileType
from scale.models.ingest import Ingest, IngestStatus
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import Job, JobExecution, JobExecutionStatus, JobStatus, Queue
from scale.models.nodes import Node
from scale.models.recipes import RecipeJob, RecipeType
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue import factory, transitions
from scale.specs import job_data
from scale.specs.job_data import JobData
from scale.timeutil import utcnow

MIB = 1024 * 1024


# ---- interfaces, trigger rules and create bodies -----------------------------------------------

def interface(media_types=("image/png",), outputs=(), *, command_arguments="${input_file} ${job_output_dir}"):
    """`run` reading a file `input_file` and an optional property `level`, writing `outputs`."""
    return {"version": "1.0", "command": "run", "command_arguments": command_arguments,
            "input_data": [{"name": "input_file", "type": "file", "media_types": list(media_types)},
                           {"name": "level", "type": "property", "required": False}],
            "output_data": [{"name": name, "type": "file"} for name in outputs], "shared_resources": []}


def file_interface(input_media_types=("text/plain",), output_media_type="text/plain", *, report=False) -> dict:
    """`run.sh` reading one file, `input_file`, and writing one, `output_file` (with `report`, a
    second output of any media type, `report`)."""
    outputs = [{"name": "output_file", "type": "file", "media_type": output_media_type}]
    if report:
        outputs.append({"name": "report", "type": "file"})
    return {"version": "1.0", "command": "run.sh", "command_arguments": "${input_file} ${job_output_dir}",
            "input_data": [{"name": "input_file", "type": "file", "media_types": list(input_media_types)}],
            "output_data": outputs}


def command_interface(command: str, arguments: str = "", *properties: str) -> dict:
    """`command arguments`, with `properties` as its (property) inputs and no outputs."""
    return {"version": "1.0", "command": command, "command_arguments": arguments,
            "input_data": [{"name": name, "type": "property"} for name in properties], "output_data": []}


def trigger_rule(kind: str = "INGEST", *, media_type: str = "text/plain", data_types: tuple[str, ...] = (),
                 workspace: str = "products", input_name: str = "input_file", is_active: bool = True) -> dict:
    """An ingest or parse trigger rule feeding `input_name`, products going to `workspace`."""
    return {"type": kind, "is_active": is_active, "configuration": {
        "version": "1.0", "condition": {"media_type": media_type, "data_types": list(data_types)},
        "data": {"input_data_name": input_name, "workspace_name": workspace}}}


def reference_rule(**changes) -> dict:
    """The trigger rule of the reference's Create Job Type example: PARSE image/png into `rs`."""
    return trigger_rule(**{"kind": "PARSE", "media_type": "image/png", "workspace": "rs", **changes})


def job_type_body(**overrides) -> dict:
    """The reference's Create Job Type example (with a file input the rule can feed)."""
    return {"name": "my-job", "version": "1.0", "title": "My Job",
            "description": "This is a description of the job", "category": "test",
            "author_name": None, "author_url": None, "is_long_running": False,
            "is_operational": True, "is_paused": False, "icon_code": "f1c5",
            "docker_privileged": False, "docker_image": None, "priority": 1, "timeout": 0,
            "max_tries": 0, "cpus_required": 0.5, "mem_required": 64.0,
            "disk_out_const_required": 64.0, "disk_out_mult_required": 0.0,
            "interface": interface(),
            "error_mapping": {"version": "1.0", "exit_codes": {"1": "unknown"}},
            "trigger_rule": reference_rule(), **overrides}


def post_job_type(client, token: dict[str, str], **overrides) -> dict:
    """Create `job_type_body(**overrides)` through the API (it must succeed); its details."""
    resp = client.post("/api/job-types/", json=job_type_body(**overrides), headers=token)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def command_job_type_body(name: str, command: str, arguments: str = "", *properties: str, **fields) -> dict:
    """The create body of job type `name` 1.0 running `command arguments` (see `command_interface`)."""
    return {"name": name, "version": "1.0", "interface": command_interface(command, arguments, *properties),
            **fields}


# ---- job types ------------------------------------------------------------------------------------

def make_job_type(db, name="algo", **fields) -> JobType:
    """A job type and its revision written directly (for tests about something else)."""
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


def create_file_job_type(db, name: str = "algo", trigger_rule: dict | None = None, *,
                         media_types: tuple[str, ...] = ("text/plain",), **fields) -> JobType:
    """A job type of `file_interface(media_types, report=True)` created as the API creates one,
    with `trigger_rule` when given."""
    body = {"name": name, "version": "1.0", "interface": file_interface(media_types, report=True), **fields}
    if trigger_rule is not None:
        body["trigger_rule"] = trigger_rule
    return create_job_type(db, body)


def command_job_type(sessions: sessionmaker, name: str, command: str, arguments: str = "", *properties: str,
                     **fields) -> int:
    """Job type `name` running `command arguments` (see `command_job_type_body`), created as the
    API creates one and committed, for tests whose scheduler or worker reads it on another
    connection. Returns its id."""
    with sessions.begin() as session:
        return create_job_type(session, command_job_type_body(name, command, arguments, *properties, **fields)).id


def shell_job_type(sessions: sessionmaker, name: str = "shell", **fields) -> int:
    """A committed job type that runs its property `code` under /bin/sh: 1 cpu, 64 MiB and 1 MiB
    out unless `fields` say otherwise. Returns its id."""
    return command_job_type(sessions, name, "/bin/sh", "-c ${code}", "code",
                            **{"disk_out_const_required": 1.0, **fields})


def edit_job_type(db, job_type_id: int, body: dict) -> JobType:
    return job_types.edit_job_type(db, job_type_id, JobTypeEdit.from_json(body))


def create_recipe_type(db, body: dict) -> RecipeType:
    """A recipe type created as the API creates one, from a create body."""
    return recipe_types.create_recipe_type(db, RecipeTypeCreate.from_json(body))


# ---- workspaces, files, nodes, jobs and executions ------------------------------------------------

def make_workspace(db, name="products", is_active=True) -> Workspace:
    workspace = Workspace(name=name, is_active=is_active, base_url="http://files/ws",
                          json_config={"version": "1.0", "broker": {"type": "host", "host_path": "/tmp/ws"}})
    db.add(workspace)
    db.flush()
    return workspace


def host_workspace(db, root: Path, name: str = "raw", is_active: bool = True, **fields) -> Workspace:
    """A workspace whose files are the directory `root` on this machine."""
    workspace = Workspace(name=name, is_active=is_active, **fields, json_config={
        "version": "1.0", "broker": {"type": "host", "host_path": str(root)}})
    db.add(workspace)
    db.flush()
    return workspace


def make_file(db, workspace, *, media_type="image/png", size=2 * MIB, **fields) -> ScaleFile:
    values = {"file_type": "SOURCE", "file_name": "in.png", "file_path": "in/in.png", "uuid": "0" * 32, **fields}
    scale_file = ScaleFile(media_type=media_type, file_size=size, workspace_id=workspace.id, **values)
    db.add(scale_file)
    db.flush()
    return scale_file


def add_source(db, workspace: Workspace, *, media_type: str = "text/plain", data_types: tuple[str, ...] = (),
               ingested: bool = True) -> ScaleFile:
    """A source file and, with `ingested`, the INGESTED ingest that made it."""
    source = ScaleFile(file_type=ScaleFileType.SOURCE, file_name=f"{uuid.uuid4().hex[:8]}.txt",
                       media_type=media_type, file_size=100, data_type=list(data_types), file_path="in/f.txt",
                       workspace_id=workspace.id, uuid=uuid.uuid4().hex)
    db.add(source)
    db.flush()
    if ingested:
        db.add(Ingest(file_name=source.file_name, status=IngestStatus.INGESTED, source_file_id=source.id,
                      media_type=media_type, file_size=100, data_type=list(data_types)))
        db.flush()
    return source


def make_node(db, hostname="node-1") -> Node:
    node = Node(hostname=hostname, port=5051)
    db.add(node)
    db.flush()
    return node


def make_cluster_node(db, hostname="node1.example.com", *, cpus=4.0, mem=8192.0, disk=100_000.0,
                      active=True, last_offer: dt.datetime | None = None, **fields) -> Node:
    """A node with its resources and times, as the nodes API shows one."""
    now = utcnow()
    node = Node(hostname=hostname, port=5051, slave_id=None, is_active=active, created=now,
                last_modified=now, last_offer=last_offer, cpus_total=cpus, mem_total=mem,
                disk_total=disk, **fields)
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


def make_execution(db, job_type: JobType, node: Node | None, status="RUNNING", *, error: str | None = None,
                   cpus=1.0, mem=512.0, disk=100.0, ended: dt.datetime | None = None,
                   queued_row=False) -> JobExecution:
    """An execution (and its job) in `status` on `node`, written directly; with `queued_row`, its
    queue row too."""
    now = utcnow()
    error_row = db.scalar(select(Error).where(Error.name == error)) if error else None
    job = new_job(db, job_type, priority=10, timeout=60, status=status, max_tries=3, num_exes=1,
                  cpus_required=cpus, mem_required=mem)
    exe = JobExecution(job=job, status=status, timeout=60, node_id=node.id if node else None,
                       error=error_row, queued=now, started=now if status != "QUEUED" else None,
                       ended=ended or (now if status in ("FAILED", "COMPLETED") else None),
                       cpus_scheduled=cpus, mem_scheduled=mem, disk_in_scheduled=disk / 2,
                       disk_out_scheduled=disk / 2, disk_total_scheduled=disk)
    db.add(exe)
    db.flush()
    if queued_row:
        db.add(Queue(job_exe_id=exe.id, job_id=job.id, job_type_id=job_type.id, priority=10,
                     cpus_required=cpus, mem_required=mem, disk_in_required=0.0,
                     disk_out_required=disk, disk_total_required=disk, queued=now))
        db.flush()
    return exe


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def make_error(db, name, category) -> Error:
    error = Error(name=name, category=category)
    db.add(error)
    db.flush()
    return error


# ---- recipes --------------------------------------------------------------------------------------

def chain_definition(names: tuple[str, ...]) -> dict:
    """Job `names[0]` reads the recipe input; each next job reads the previous job's output."""
    jobs = [{"name": names[0], "job_type": {"name": "make", "version": "1.0"},
             "recipe_inputs": [{"recipe_input": "input_file", "job_input": "input_file"}]}]
    for before, name in zip(names, names[1:], strict=False):
        jobs.append({"name": name, "job_type": {"name": "use", "version": "1.0"},
                     "dependencies": [{"name": before, "connections": [
                         {"output": "output_file", "input": "input_file"}]}]})
    return {"input_data": [{"name": "input_file", "type": "file", "media_types": ["text/plain"]}],
            "jobs": jobs}


def make_named_file(db, workspace: Workspace, name: str = "input.txt", media_type: str = "text/plain",
                    file_type: str = ScaleFileType.SOURCE, **fields) -> ScaleFile:
    """A 2 MiB file `in/<name>` with a uuid of its own."""
    scale_file = ScaleFile(file_type=file_type, file_name=name, media_type=media_type, file_size=2 * 1024 * 1024,
                           file_path=f"in/{name}", workspace=workspace, uuid=uuid.uuid4().hex, **fields)
    db.add(scale_file)
    db.flush()
    return scale_file


def make_world(db, tmp_path: Path, names: tuple[str, ...] = ("first", "second")) -> dict:
    """A workspace, the `make` and `use` job types, a recipe type chaining `names`, and a
    source file to feed it. Committed to the test's savepoint."""
    workspace = Workspace(name="products", json_config={"version": "1.0", "broker": {
        "type": "host", "host_path": str(tmp_path / "products")}})
    db.add(workspace)
    db.flush()
    for name in ("make", "use"):
        make_job_type(db, name, title=name, interface=file_interface(), priority=50, timeout=600, max_tries=1,
                      cpus_required=0.5, mem_required=128.0)
    recipe_type = create_recipe_type(db, {"name": "chain", "version": "1.0", "definition": chain_definition(names)})
    source = make_named_file(db, workspace)
    db.commit()
    return {"workspace": workspace, "recipe_type": recipe_type, "source": source}


def new_recipe_body(world: dict, **data) -> dict:
    """A new-recipe body for `make_world`'s recipe type and source file (`data` over its recipe data)."""
    recipe_data = {"version": "1.0", "input_data": [{"name": "input_file", "file_id": world["source"].id}],
                   "workspace_id": world["workspace"].id, **data}
    return {"recipe_type_id": world["recipe_type"].id, "recipe_data": recipe_data}


def jobs_of(db, recipe_id: int) -> dict[str, Job]:
    """The jobs of recipe `recipe_id` by their names in it, fresh from the database."""
    rows = db.execute(select(RecipeJob.job_name, Job).join(Job, RecipeJob.job_id == Job.id)
                      .where(RecipeJob.recipe_id == recipe_id).execution_options(populate_existing=True))
    return {name: job for name, job in rows}


def finish_job(db, job: Job, status: JobStatus, *, output_file_id: int | None = None) -> None:
    """Stand in for the runner: schedule the job's queued execution on a node and end it
    COMPLETED (with results naming its output file) or FAILED, through the queue transitions."""
    node = db.scalar(select(Node).where(Node.hostname == "test-node"))
    if node is None:
        node = Node(hostname="test-node", port=5051)
        db.add(node)
        db.flush()
    queue_row = db.scalars(select(Queue).where(Queue.job_id == job.id)).one()
    exe = transitions.schedule_execution(db, queue_row, node_id=node.id, cpus=1, mem=64, disk_in=0, disk_out=0)
    if status == JobStatus.COMPLETED:
        results = {"version": "1.0", "output_data": [{"name": "output_file", "file_id": output_file_id}]}
        transitions.complete_execution(db, exe.id, results=results, exit_code=0)
    else:
        # max_tries is 1, so this SYSTEM failure is final.
        transitions.fail_execution(db, exe.id, error_name="unknown", exit_code=1)
    db.commit()


# ---- the job runner ------------------------------------------------------------------------------

WORDS = "a b; rm -rf /"
INPUT_BYTES = b"hello input\n"


class RunnerSetup:
    """One workspace and input file, and a factory of RUNNING executions of script job types."""

    def __init__(self, session: Session, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.workspace_root = tmp_path / "workspace"
        self.work_root = tmp_path / "work"
        self.workspace = Workspace(name="ws", json_config={"version": "1.0", "broker": {
            "type": "host", "host_path": str(self.workspace_root)}})
        self.event = TriggerEvent(type="USER", occurred=utcnow())
        session.add_all([self.workspace, self.event])
        session.flush()
        (self.workspace_root / "sources").mkdir(parents=True)
        (self.workspace_root / "sources/input.txt").write_bytes(INPUT_BYTES)
        self.input_file = ScaleFile(file_type=ScaleFileType.SOURCE, file_name="input.txt", media_type="text/plain",
                                    file_size=len(INPUT_BYTES), file_path="sources/input.txt",
                                    workspace_id=self.workspace.id, uuid="0" * 32)
        session.add(self.input_file)
        session.flush()
        self.scripts = 0

    def job(self, session: Session, script: str, *, outputs: list[dict] | None = None,
            error_mapping: dict | None = None, timeout: int = 60, command: str | None = None,
            max_tries: int = 1) -> JobExecution:
        self.scripts += 1
        path = self.tmp_path / f"script{self.scripts}.sh"
        path.write_text("#!/bin/sh\n" + script)
        outputs = [{"name": "out", "type": "file", "media_type": "text/plain"}] if outputs is None else outputs
        interface = {"version": "1.0", "command": command or f"/bin/sh {path}",
                     "command_arguments": "${input_file} ${words} ${job_output_dir}",
                     "input_data": [{"name": "input_file", "type": "file"},
                                    {"name": "words", "type": "property", "required": False}],
                     "output_data": outputs}
        job_type = JobType(name=f"script-{self.scripts}", version="1.0", interface=interface,
                           error_mapping=error_mapping or {})
        session.add(job_type)
        session.flush()
        revision = JobTypeRevision(job_type_id=job_type.id, revision_num=1, interface=interface)
        session.add(revision)
        session.flush()
        data = {"version": "1.0",
                "input_data": [{"name": "input_file", "file_id": self.input_file.id},
                               {"name": "words", "value": WORDS}],
                "output_data": [{"name": o["name"], "workspace_id": self.workspace.id} for o in outputs]}
        now = utcnow()
        job = self.running_job(session, job_type, revision, job_data.parse(data), timeout=timeout,
                               max_tries=max_tries)
        exe = JobExecution(job_id=job.id, status=JobExecutionStatus.RUNNING, timeout=timeout, queued=now,
                           started=now)
        session.add(exe)
        session.flush()
        return exe

    def running_job(self, session: Session, job_type: JobType, revision: JobTypeRevision, data: JobData, *,
                    timeout: int, max_tries: int) -> Job:
        """A RUNNING job of `job_type` on its first execution, made as Scale makes jobs."""
        now = utcnow()
        job = factory.new_job(job_type, revision, session.get(TriggerEvent, self.event.id), data, now)
        job.status, job.queued, job.started, job.num_exes = JobStatus.RUNNING, now, now, 1
        job.priority, job.timeout, job.max_tries = 100, timeout, max_tries
        job.cpus_required, job.mem_required = 1.0, 64.0
        session.add(job)
        session.flush()
        return job

    def noop(self, session: Session) -> JobExecution:
        """A RUNNING execution of `/bin/true`, with no inputs and no outputs."""
        interface = {"version": "1.0", "command": "/bin/true", "command_arguments": "", "input_data": [],
                     "output_data": []}
        job_type = JobType(name="noop", version="1.0", interface=interface, error_mapping={})
        session.add(job_type)
        session.flush()
        revision = JobTypeRevision(job_type_id=job_type.id, revision_num=1, interface=interface)
        session.add(revision)
        session.flush()
        now = utcnow()
        job = self.running_job(session, job_type, revision, JobData(), timeout=60, max_tries=1)
        exe = JobExecution(job_id=job.id, status=JobExecutionStatus.RUNNING, timeout=60, queued=now, started=now)
        session.add(exe)
        session.flush()
        return exe
