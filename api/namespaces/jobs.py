"""Jobs and their executions: `/api/jobs/`.

`GET /` lists jobs; `GET /updates/` lists jobs whose status changed in `started`..`ended`, with
their input files; `GET /executions/` lists jobs with their latest execution; `GET /{id}/`
gives a job's details; `PATCH /{id}/` with `{"status": "CANCELED"}` cancels it (409 when the
job has already finished: the reference lists no code for that, and every invalid state change
in Scale is 409)."""

from __future__ import annotations

from typing import Any

from flask_restx import Namespace, Resource
from sqlalchemy.orm import Session

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import jobs as serialize
from api.tasks import advance_recipes_of
from scale.queue import commands, service
from scale.scheduler.why import queued_reasons

ns = Namespace("jobs", description="Jobs and their executions")

JOB_EDIT = ns.schema_model("JobEdit", commands.JOB_EDIT_SCHEMA)
# Only what is beyond the reference is described: why a queued job waits.
JOB_PAGE = ns.schema_model("JobPage", {
    "type": "object", "required": ["results"],
    "properties": {"results": {"type": "array", "items": serialize.QUEUED_REASON_SCHEMA}}})
JOB_DETAILS = ns.schema_model("JobDetails", serialize.QUEUED_REASON_SCHEMA)


def _identity(job):
    return job


def _reasons(jobs) -> dict:
    """Why each queued job of a page waits, in one batch."""
    return queued_reasons(db_session(), [job.id for job in jobs])


def _jobs_in_list(jobs) -> list:
    reasons = _reasons(jobs)
    return [serialize.job_in_list(job, reasons.get(job.id)) for job in jobs]


@ns.route("/")
class JobList(Resource):
    @document_list(ns, service.JOB_LIST)
    @ns.response(200, "A page of jobs", JOB_PAGE)
    def get(self):
        """List jobs, each QUEUED one with why it waits."""
        return list_response(service.list_jobs_statement(), service.JOB_LIST, _jobs_in_list, whole_page=True)


@ns.route("/updates/")
class JobUpdates(Resource):
    @document_list(ns, service.JOB_UPDATES)
    @ns.response(200, "A page of jobs", JOB_PAGE)
    def get(self):
        """List jobs whose status changed in the time range, with their input files."""
        body = list_response(service.list_jobs_statement(), service.JOB_UPDATES, _identity)
        files = service.input_files(db_session(), body["results"])
        reasons = _reasons(body["results"])
        body["results"] = [serialize.job_with_input_files(job, files[job.id], reasons.get(job.id))
                           for job in body["results"]]
        return body


@ns.route("/executions/")
class JobsWithExecutions(Resource):
    @document_list(ns, service.JOBS_WITH_EXECUTIONS)
    @ns.response(200, "A page of jobs", JOB_PAGE)
    def get(self):
        """List jobs with their latest execution."""
        body = list_response(service.list_jobs_statement(), service.JOBS_WITH_EXECUTIONS, _identity)
        latest = service.latest_executions(db_session(), [job.id for job in body["results"]])
        reasons = _reasons(body["results"])
        body["results"] = [serialize.job_with_latest_execution(job, latest.get(job.id), reasons.get(job.id))
                           for job in body["results"]]
        return body


@ns.route("/<int:job_id>/")
@ns.response(404, "No job has this id")
class JobDetail(Resource):
    @ns.response(200, "The job's details", JOB_DETAILS)
    def get(self, job_id: int):
        """Details of one job: its type, revision, event, executions, recipes, inputs and outputs."""
        return details_of(db_session(), job_id)

    @ns.expect(JOB_EDIT)
    @ns.response(400, "A field is invalid or unknown: `message` and `field` name it")
    @ns.response(409, "The job has already finished (COMPLETED, FAILED or CANCELED)")
    def patch(self, job_id: int):
        """Cancel a pending, blocked, queued or running job."""
        session = db_session()
        service.edit_job(session, job_id, commands.JobEdit.from_json(json_object()))
        advance_recipes_of([job_id])
        session.commit()
        return details_of(session, job_id)


def details_of(session: Session, job_id: int) -> dict[str, Any]:
    """A job's details as the API answers them, with why it is queued (if it is)."""
    return serialize.job_details(service.get_job(session, job_id), queued_reasons(session, [job_id]).get(job_id))
