"""The queue: new jobs, requeue, cancel, status: `/api/queue/`.

`GET /status/` counts queued jobs by job type; `POST /new-job/` creates and queues a job
(201, the job's details, `Location` of the new execution as the reference says);
`POST /requeue-jobs/` requeues the FAILED/CANCELED jobs a filter matches; `POST /cancel-jobs/`
(beyond the reference) cancels the PENDING/BLOCKED/QUEUED/RUNNING jobs the same filter matches.
Both answer with the jobs list envelope over the jobs they changed: `count` is how many, and
`page`/`page_size` query arguments page through them; `next`/`previous` are null because
repeating the POST would act again."""

from __future__ import annotations

from flask import request, url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import page_params
from api.namespaces.jobs import details_of
from api.serialize import jobs as serialize_jobs
from api.serialize import queue as serialize
from api.tasks import advance_recipes_of
from scale.listing import ListSpec, parse_list_args
from scale.models.jobs import Job
from scale.queue import commands, service
from scale.scheduler.why import ReasonCode, queued_reasons, reason_counts

ns = Namespace("queue", description="The queue: new jobs, requeue, cancel, status")

NEW_JOB = ns.schema_model("QueueNewJob", commands.NEW_JOB_SCHEMA)
REQUEUE = ns.schema_model("RequeueJobs", commands.REQUEUE_SCHEMA)
CANCEL = ns.schema_model("CancelJobs", commands.CANCEL_SCHEMA)
_PAGE_PARAMS = page_params("the changed jobs")
# Only what is beyond the reference is described: why queued jobs wait.
CHANGED_JOBS = ns.schema_model("ChangedJobs", {
    "type": "object", "required": ["results"],
    "properties": {"results": {"type": "array", "items": serialize_jobs.QUEUED_REASON_SCHEMA}}})
STATUS = ns.schema_model("QueueStatus", {
    "type": "object", "required": ["queue_status"],
    "properties": {"queue_status": {"type": "array", "items": {
        "type": "object", "required": ["queued_reasons"],
        "properties": {"queued_reasons": {
            "type": "object", "additionalProperties": False,
            "description": "How many of the job type's queued jobs wait for each reason (only those that occur)",
            "properties": {code.value: {"type": "integer", "minimum": 1} for code in ReasonCode}}}}}}})


def _changed_jobs(job_ids: list[int]) -> dict:
    """The list envelope over the jobs an operation changed, ascending by id."""
    query = parse_list_args(request.args.to_dict(flat=False), ListSpec())
    start = (query.page - 1) * query.page_size
    page_ids = job_ids[start:start + query.page_size]
    session = db_session()
    jobs = list(session.scalars(service.list_jobs_statement().where(Job.id.in_(page_ids)).order_by(Job.id)))
    reasons = queued_reasons(session, page_ids)
    return {"count": len(job_ids), "next": None, "previous": None,
            "results": [serialize_jobs.job_in_list(job, reasons.get(job.id)) for job in jobs]}


@ns.route("/status/")
class QueueStatus(Resource):
    @ns.response(200, "Queued jobs by job type", STATUS)
    def get(self):
        """Queued jobs by job type: how many, the longest queued and the highest priority."""
        session = db_session()
        entries = service.queue_status(session)
        return serialize.queue_status(entries, reason_counts(session) if entries else {})


@ns.route("/new-job/")
class QueueNewJob(Resource):
    @ns.expect(NEW_JOB)
    @ns.response(201, "Created: the job's details; Location is the new job execution")
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is written")
    def post(self):
        """Create a job of a job type on some job data and queue it."""
        session = db_session()
        job, exe_id = service.queue_new_job(session, commands.NewJob.from_json(json_object()))
        session.commit()
        location = url_for("api.job-executions_execution_detail", job_exe_id=exe_id)
        return details_of(session, job.id), 201, {"Location": location}


@ns.route("/requeue-jobs/")
class RequeueJobs(Resource):
    @ns.expect(REQUEUE)
    @ns.doc(params=_PAGE_PARAMS)
    @ns.response(200, "The jobs changed", CHANGED_JOBS)
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is changed")
    def post(self):
        """Requeue the FAILED or CANCELED jobs that match the filter, raising their max_tries."""
        session = db_session()
        job_ids = service.requeue_jobs(session, commands.RequeueJobs.from_json(json_object()))
        advance_recipes_of(job_ids)
        session.commit()
        return _changed_jobs(job_ids)


@ns.route("/cancel-jobs/")
class CancelJobs(Resource):
    @ns.expect(CANCEL)
    @ns.doc(params=_PAGE_PARAMS)
    @ns.response(200, "The jobs changed", CHANGED_JOBS)
    @ns.response(400, "A field is invalid or no filter was given; nothing is changed")
    def post(self):
        """Cancel the PENDING, BLOCKED, QUEUED or RUNNING jobs that match the filter."""
        session = db_session()
        job_ids = service.cancel_jobs(session, commands.CancelJobs.from_json(json_object()))
        advance_recipes_of(job_ids)
        session.commit()
        return _changed_jobs(job_ids)
