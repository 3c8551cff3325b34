"""The trigger read API (the reference leaves it TODO): GET /api/trigger-rules/, /api/trigger-rules/{id}/,
/api/trigger-events/ and /api/trigger-events/{id}/."""

from __future__ import annotations

import datetime as dt

import pytest

from scale.models.recipes import Recipe, RecipeType, RecipeTypeRevision
from scale.models.triggers import TriggerEvent, TriggerRule
from scale.timeutil import UTC
from tests.factories import make_file, make_job_type, make_workspace, new_job

T0 = dt.datetime(2015, 10, 21, 14, 0, tzinfo=UTC)
INGEST_CONFIG = {"version": "1.0", "condition": {"media_type": "text/plain", "data_types": []},
                 "data": {"input_data_name": "input_file", "workspace_name": "raw"}}


def make_rule(db, name, rule_type="INGEST", *, is_active=True, modified=T0) -> TriggerRule:
    rule = TriggerRule(name=name, type=rule_type, configuration=INGEST_CONFIG, is_active=is_active,
                       created=modified, last_modified=modified)
    db.add(rule)
    db.flush()
    return rule


def make_event(db, event_type="INGEST", *, rule=None, source=None, occurred=T0) -> TriggerEvent:
    event = TriggerEvent(type=event_type, rule_id=rule.id if rule else None,
                         source_file_id=source.id if source else None, description={"why": "test"},
                         occurred=occurred)
    db.add(event)
    db.flush()
    return event


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def test_rule_list_shape_and_filters(client, db):
    ingest = make_rule(db, "ingest-rule", modified=T0)
    parse = make_rule(db, "parse-rule", "PARSE", is_active=False, modified=T0 + dt.timedelta(hours=1))

    resp = client.get("/api/trigger-rules/")

    assert ids(resp) == [parse.id, ingest.id]  # most recently modified first
    entry = resp.get_json()["results"][1]
    assert entry == {"id": ingest.id, "type": "INGEST", "name": "ingest-rule", "is_active": True,
                     "configuration": INGEST_CONFIG, "created": "2015-10-21T14:00:00.000Z", "archived": None,
                     "last_modified": "2015-10-21T14:00:00.000Z"}
    assert ids(client.get("/api/trigger-rules/?type=PARSE")) == [parse.id]
    assert ids(client.get("/api/trigger-rules/?is_active=true")) == [ingest.id]
    assert ids(client.get("/api/trigger-rules/?name=ingest-rule")) == [ingest.id]
    assert ids(client.get("/api/trigger-rules/?ended=2015-10-21T14:30:00Z")) == [ingest.id]
    assert ids(client.get("/api/trigger-rules/?order=name")) == [ingest.id, parse.id]
    assert client.get("/api/trigger-rules/?type=SOMETIMES").get_json()["field"] == "type"
    assert client.get("/api/trigger-rules/?is_active=2").get_json()["field"] == "is_active"


def test_rule_details_name_its_job_and_recipe_types(client, db):
    rule = make_rule(db, "shared")
    job_type = make_job_type(db, name="algo", trigger_rule_id=rule.id)
    make_job_type(db, name="unrelated")
    recipe_type = RecipeType(name="chain", version="1.0", definition={}, trigger_rule_id=rule.id)
    db.add(recipe_type)
    db.flush()

    body = client.get(f"/api/trigger-rules/{rule.id}/").get_json()

    assert body["id"] == rule.id and body["configuration"] == INGEST_CONFIG
    assert [t["id"] for t in body["job_types"]] == [job_type.id] and body["job_types"][0]["name"] == "algo"
    assert body["recipe_types"] == [{"id": recipe_type.id, "name": "chain", "version": "1.0", "title": None,
                                     "description": None}]


def test_unknown_rule_and_event_are_404(client):
    assert client.get("/api/trigger-rules/424242/").status_code == 404
    assert client.get("/api/trigger-events/424242/").status_code == 404


def test_event_list_shape_filters_and_range(client, db):
    source = make_file(db, make_workspace(db, name="raw"))
    rule = make_rule(db, "ingest-rule")
    early = make_event(db, rule=rule, source=source, occurred=T0)
    late = make_event(db, "STRIKE_CREATED", occurred=T0 + dt.timedelta(days=1))

    resp = client.get("/api/trigger-events/")

    assert ids(resp) == [late.id, early.id]  # newest first
    entry = resp.get_json()["results"][1]
    assert entry["type"] == "INGEST" and entry["occurred"] == "2015-10-21T14:00:00.000Z"
    assert entry["rule"]["id"] == rule.id and entry["rule"]["type"] == "INGEST"
    assert entry["source_file"] == {"id": source.id} and entry["description"] == {"why": "test"}
    assert resp.get_json()["results"][0]["rule"] is None
    assert ids(client.get("/api/trigger-events/?type=STRIKE_CREATED")) == [late.id]
    assert ids(client.get(f"/api/trigger-events/?rule_id={rule.id}")) == [early.id]
    assert ids(client.get(f"/api/trigger-events/?source_file_id={source.id}")) == [early.id]
    assert ids(client.get("/api/trigger-events/?started=2015-10-22T00:00:00Z")) == [late.id]
    assert ids(client.get("/api/trigger-events/?order=occurred")) == [early.id, late.id]
    page = client.get("/api/trigger-events/?page_size=1").get_json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]


@pytest.mark.parametrize("query, field", [("rule_id=one", "rule_id"), ("source_file_id=99999999999", "source_file_id"),
                                          ("started=never", "started"), ("page_size=0", "page_size")])
def test_bad_event_list_arguments_are_400(client, query, field):
    resp = client.get(f"/api/trigger-events/?{query}")
    assert resp.status_code == 400
    assert resp.get_json()["field"] == field


def test_event_details_hold_the_jobs_and_recipes_it_created(client, db):
    job_type = make_job_type(db)
    job = new_job(db, job_type)
    event = job.event
    other_job = new_job(db, job_type)
    recipe_type = RecipeType(name="chain", version="1.0", definition={})
    db.add(recipe_type)
    db.flush()
    revision = RecipeTypeRevision(recipe_type_id=recipe_type.id, revision_num=1, definition={})
    db.add(revision)
    db.flush()
    recipe = Recipe(recipe_type_id=recipe_type.id, recipe_type_rev_id=revision.id, event_id=event.id, data={})
    db.add(recipe)
    db.flush()

    body = client.get(f"/api/trigger-events/{event.id}/").get_json()

    assert body["id"] == event.id and body["type"] == "TEST"
    assert [j["id"] for j in body["jobs"]] == [job.id] and other_job.id != job.id
    assert body["jobs"][0]["job_type"]["name"] == "algo"
    assert [r["id"] for r in body["recipes"]] == [recipe.id]
    assert body["recipes"][0]["recipe_type"]["name"] == "chain"
