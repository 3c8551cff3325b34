"""Overall system status: `/api/status/`."""

from __future__ import annotations

from flask import current_app
from flask_restx import Namespace, Resource

from api.context import db_session
from api.serialize import nodes as serialize
from scale.nodes import service as nodes
from scale.settings import Settings

ns = Namespace("status", description="Overall system status")


@ns.route("/")
class SystemStatus(Resource):
    def get(self):
        """Master and scheduler status, queue depth and the cluster's resources."""
        settings: Settings = current_app.extensions["scale.settings"]
        return serialize.system_status(nodes.system_status(
            db_session(), resource_manager=settings.resource_manager,
            mesos_master=settings.mesos_master))
