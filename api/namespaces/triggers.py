"""Trigger rules and events, read only: `/api/trigger-rules/` and `/api/trigger-events/` (the
reference leaves Trigger Services TODO; see `scale.triggers.queries` for the decisions). Rules
are created and changed through the job types and recipe types that own them."""

from __future__ import annotations

from flask_restx import Namespace, Resource

from api.context import db_session
from api.listing import document_list, list_response
from api.serialize import trigger_details as serialize
from api.serialize.triggers import trigger_rule_detail
from scale.triggers import queries

rules_ns = Namespace("trigger-rules", description="Trigger rules: what creates jobs and recipes automatically")
events_ns = Namespace("trigger-events", description="Trigger events: what happened to create jobs and recipes")


@rules_ns.route("/")
class TriggerRuleList(Resource):
    @document_list(rules_ns, queries.TRIGGER_RULE_LIST)
    def get(self):
        """List trigger rules."""
        return list_response(queries.list_rules_statement(), queries.TRIGGER_RULE_LIST, trigger_rule_detail)


@rules_ns.route("/<int:rule_id>/")
@rules_ns.response(404, "No trigger rule has this id")
class TriggerRuleDetail(Resource):
    def get(self, rule_id: int):
        """Details of one trigger rule, with the job types and recipe types that use it."""
        return serialize.rule_details(queries.get_rule(db_session(), rule_id))


@events_ns.route("/")
class TriggerEventList(Resource):
    @document_list(events_ns, queries.TRIGGER_EVENT_LIST)
    def get(self):
        """List trigger events."""
        return list_response(queries.list_events_statement(), queries.TRIGGER_EVENT_LIST, serialize.event_summary)


@events_ns.route("/<int:event_id>/")
@events_ns.response(404, "No trigger event has this id")
class TriggerEventDetail(Resource):
    def get(self, event_id: int):
        """Details of one trigger event, with the jobs and recipes it created."""
        return serialize.event_details(queries.get_event(db_session(), event_id))
