"""Job executions and their logs: `/api/job-executions/`.

`GET /` lists executions; `GET /{id}/` gives one with its resources, results and the URLs
of its logs; `GET /{id}/logs/` gives the execution with `stdout` and `stderr` as written so far
(while it runs, too). Beyond the reference, `GET /{id}/logs/stdout/` and `/logs/stderr/` give
one log as text/plain: they are the `current_stdout_url`/`current_stderr_url` of the details."""

from __future__ import annotations

from flask import Response, url_for
from flask_restx import Namespace, Resource

from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import jobs as serialize
from scale.queue import service

ns = Namespace("job-executions", description="Job executions and their logs")


@ns.route("/")
class ExecutionList(Resource):
    @document_list(ns, service.EXECUTION_LIST)
    def get(self):
        """List job executions."""
        return list_response(service.list_executions_statement(), service.EXECUTION_LIST,
                             serialize.execution_summary)


@ns.route("/<int:job_exe_id>/")
@ns.response(404, "No job execution has this id")
class ExecutionDetail(Resource):
    def get(self, job_exe_id: int):
        """Details of one job execution."""
        exe = service.get_execution(db_session(), job_exe_id)
        return serialize.execution_details(
            exe,
            stdout_url=url_for("api.job-executions_execution_stdout", job_exe_id=exe.id, _external=True)
            if exe.stdout_path else None,
            stderr_url=url_for("api.job-executions_execution_stderr", job_exe_id=exe.id, _external=True)
            if exe.stderr_path else None)


@ns.route("/<int:job_exe_id>/logs/")
@ns.response(404, "No job execution has this id")
class ExecutionLogs(Resource):
    def get(self, job_exe_id: int):
        """The execution with its stdout and stderr so far."""
        exe = service.get_execution(db_session(), job_exe_id)
        return serialize.execution_logs(exe, service.read_log(exe.stdout_path), service.read_log(exe.stderr_path))


@ns.route("/<int:job_exe_id>/logs/stdout/")
@ns.response(404, "No job execution has this id")
class ExecutionStdout(Resource):
    @ns.produces(["text/plain"])
    def get(self, job_exe_id: int):
        """The execution's stdout so far, as text."""
        exe = service.get_execution(db_session(), job_exe_id)
        return Response(service.read_log(exe.stdout_path), mimetype="text/plain")


@ns.route("/<int:job_exe_id>/logs/stderr/")
@ns.response(404, "No job execution has this id")
class ExecutionStderr(Resource):
    @ns.produces(["text/plain"])
    def get(self, job_exe_id: int):
        """The execution's stderr so far, as text."""
        exe = service.get_execution(db_session(), job_exe_id)
        return Response(service.read_log(exe.stderr_path), mimetype="text/plain")
