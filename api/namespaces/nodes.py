"""Nodes that run jobs: `/api/nodes/`.

PUT and PATCH answer 201 with a `Location`, as the reference says."""

from __future__ import annotations

from flask import request, url_for
from flask_restx import Namespace, Resource

from api.body import json_object
from api.context import db_session
from api.listing import document_list, list_params, list_response
from api.serialize import nodes as serialize
from scale.listing import parse_bool, parse_list_args
from scale.nodes import service as nodes
from scale.nodes.commands import NODE_EDIT_SCHEMA, NODE_REPLACE_SCHEMA, NodeEdit

ns = Namespace("nodes", description="Nodes that run jobs")

NODE_REPLACE = ns.schema_model("NodeReplace", NODE_REPLACE_SCHEMA)
NODE_EDIT = ns.schema_model("NodeEdit", NODE_EDIT_SCHEMA)
INCLUDE_INACTIVE = {"include_inactive": {
    "description": "true to include nodes no longer in the cluster", "type": "boolean",
    "in": "query"}}


def _detail(node_id: int) -> dict:
    session = db_session()
    node = nodes.get_node(session, node_id)
    return serialize.node_detail(node, nodes.node_resources(session, node),
                                 nodes.running_executions(session, node.id))


@ns.route("/")
class NodeList(Resource):
    @ns.doc(params={**list_params(nodes.NODE_LIST), **INCLUDE_INACTIVE})
    def get(self):
        """List the active nodes (all with `include_inactive=true`)."""
        raw = request.args.getlist("include_inactive")
        include = parse_bool(raw[-1], field="include_inactive") if raw and raw[-1] else False
        return list_response(nodes.list_nodes_statement(include_inactive=include),
                             nodes.NODE_LIST, serialize.node_base)


@ns.route("/status/")
class NodeStatusList(Resource):
    @document_list(ns, nodes.NODE_STATUS_RANGE)
    def get(self):
        """Active nodes with their recent execution counts by status and running executions;
        `started`/`ended` bound the executions counted (default: the last 3 hours)."""
        session = db_session()
        window = parse_list_args(request.args.to_dict(flat=False), nodes.NODE_STATUS_RANGE)
        started = window.started
        assert started is not None, "NODE_STATUS_RANGE has a default range"
        return list_response(
            nodes.list_node_status_statement(), nodes.NODE_STATUS_LIST,
            lambda node: serialize.node_status(nodes.node_status(
                session, node, started=started, ended=window.ended)))


@ns.route("/<int:node_id>/")
class NodeDetail(Resource):
    def get(self, node_id: int):
        """Details of one node: its resources and running executions."""
        return _detail(node_id)

    @ns.expect(NODE_REPLACE)
    @ns.response(201, "Replaced")
    def put(self, node_id: int):
        """Replace hostname, port, pause_reason and is_paused (all required)."""
        edit = NodeEdit.replacement_from_json(json_object())
        session = db_session()
        nodes.edit_node(session, node_id, edit)
        session.commit()
        return _detail(node_id), 201, {"Location": url_for("api.nodes_node_detail", node_id=node_id)}

    @ns.expect(NODE_EDIT)
    @ns.response(201, "Updated")
    def patch(self, node_id: int):
        """Edit a node; `is_paused: true` pauses it (with `pause_reason`), false resumes it."""
        edit = NodeEdit.from_json(json_object())
        session = db_session()
        nodes.edit_node(session, node_id, edit)
        session.commit()
        return _detail(node_id), 201, {"Location": url_for("api.nodes_node_detail", node_id=node_id)}
