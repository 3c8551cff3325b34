"""Job types services: `/api/job-types/`.

`GET /` lists summaries; `POST /` creates (201, details, `Location`); `POST /validation/`
checks a create body without writing (`{"warnings": [...]}`, or the 400 the create would
give); `GET`/`PATCH /{id}/` give and edit details. `GET /status/` pages through every job
type with its job counts by status in `started`..`ended` (default the past 3 hours, RUNNING
jobs always counted); `GET /running/` lists types with RUNNING jobs, longest running first;
`GET /system-failures/` lists (job type, SYSTEM error) pairs of FAILED jobs, latest first."""

from __future__ import annotations

from flask import request, url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import job_types as serialize
from api.serialize.warnings import validation_result
from scale.definitions import commands, job_type_stats, job_types
from scale.listing import parse_list_args

ns = Namespace("job-types", description="Job types: versioned algorithms with a typed interface")

JOB_TYPE_BODY = ns.schema_model("JobTypeCreate", commands.JOB_TYPE_CREATE_SCHEMA)
JOB_TYPE_EDIT = ns.schema_model("JobTypeEdit", commands.JOB_TYPE_EDIT_SCHEMA)


@ns.route("/")
class JobTypeList(Resource):
    @document_list(ns, job_types.JOB_TYPE_LIST)
    def get(self):
        """List job types."""
        return list_response(job_types.list_job_types_statement(), job_types.JOB_TYPE_LIST,
                             serialize.job_type_summary)

    @ns.expect(JOB_TYPE_BODY)
    @ns.response(201, "Created")
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is written")
    def post(self):
        """Create a job type with its interface, error mapping and trigger rule."""
        command = commands.JobTypeCreate.from_json(json_object())
        session = db_session()
        job_type = job_types.create_job_type(session, command)
        session.commit()
        location = url_for("api.job-types_job_type_detail", job_type_id=job_type.id)
        details = job_type_stats.describe_job_type(session, job_type)
        return serialize.job_type_details(details), 201, {"Location": location}


@ns.route("/validation/")
class JobTypeValidation(Resource):
    @ns.expect(JOB_TYPE_BODY)
    @ns.response(400, "A field is invalid: `message` and `field` name it")
    def post(self):
        """Validate a new job type without saving it."""
        command = commands.JobTypeCreate.from_json(json_object())
        warnings = job_types.validate_job_type(db_session(), command)
        return validation_result(warnings)


@ns.route("/<int:job_type_id>/")
@ns.response(404, "No job type has this id")
class JobTypeDetail(Resource):
    def get(self, job_type_id: int):
        """Details of one job type, with its errors, trigger rule and recent job counts."""
        session = db_session()
        job_type = job_types.get_job_type(session, job_type_id)
        return serialize.job_type_details(job_type_stats.describe_job_type(session, job_type))

    @ns.expect(JOB_TYPE_EDIT)
    @ns.response(400, "A field is invalid: `message` and `field` name it; nothing is changed")
    def patch(self, job_type_id: int):
        """Edit a job type; a changed interface makes a new revision."""
        edit = commands.JobTypeEdit.from_json(json_object())
        session = db_session()
        job_type = job_types.edit_job_type(session, job_type_id, edit)
        session.commit()
        return serialize.job_type_details(job_type_stats.describe_job_type(session, job_type))


@ns.route("/status/")
class JobTypeStatus(Resource):
    @document_list(ns, job_type_stats.JOB_TYPE_STATUS_RANGE)
    def get(self):
        """Every job type with counts of its jobs by status in the time range."""
        session = db_session()
        window = parse_list_args(request.args.to_dict(flat=False), job_type_stats.JOB_TYPE_STATUS_RANGE)
        counts = job_type_stats.job_counts(session, started=window.started, ended=window.ended,
                                           include_running=True)
        return list_response(job_type_stats.job_type_status_statement(),
                             job_type_stats.JOB_TYPE_STATUS_LIST,
                             lambda job_type: serialize.job_type_status(job_type,
                                                                        counts.get(job_type.id, [])))


@ns.route("/running/")
class JobTypeRunning(Resource):
    @document_list(ns, job_type_stats.JOB_TYPE_RUNNING_LIST)
    def get(self):
        """Job types with running jobs, the one running longest first."""
        return list_response(job_type_stats.running_job_types_statement(),
                             job_type_stats.JOB_TYPE_RUNNING_LIST,
                             lambda row: serialize.job_type_running(*row), rows=True)


@ns.route("/system-failures/")
class JobTypeSystemFailures(Resource):
    @document_list(ns, job_type_stats.JOB_TYPE_FAILURE_LIST)
    def get(self):
        """Job types whose jobs failed with SYSTEM errors, by error, latest first."""
        return list_response(job_type_stats.system_failures_statement(),
                             job_type_stats.JOB_TYPE_FAILURE_LIST,
                             lambda row: serialize.job_type_failure(*row), rows=True)
