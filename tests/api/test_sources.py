"""Source file services: GET /api/sources/, /api/sources/updates/ (reference) and, beyond it,
GET /api/sources/{id}/ (with ingests, jobs and products) and /api/sources/{id}/download/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from scale.models.files import FileAncestryLink, ScaleFile
from scale.models.ingest import Ingest, Strike
from scale.models.recipes import Recipe, RecipeJob, RecipeType, RecipeTypeRevision
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.timeutil import UTC
from tests.factories import make_job_type, new_job, queued_job

T0 = dt.datetime(2015, 10, 21, 14, 0, tzinfo=UTC)
CONTENT = b"a source file\n"


@pytest.fixture
def workspace(db, tmp_path: Path) -> Workspace:
    root = tmp_path / "raw"
    (root / "in").mkdir(parents=True)
    (root / "in" / "a.txt").write_bytes(CONTENT)
    workspace = Workspace(name="raw", json_config={"version": "1.0", "broker": {"type": "host",
                                                                                "host_path": str(root)}})
    db.add(workspace)
    db.flush()
    return workspace


def add_file(db, workspace, name="a.txt", *, file_type="SOURCE", created=T0, **fields) -> ScaleFile:
    scale_file = ScaleFile(file_type=file_type, file_name=name, media_type="text/plain", file_size=len(CONTENT),
                           file_path=f"in/{name}", workspace_id=workspace.id, uuid=uuid.uuid4().hex,
                           created=created, last_modified=created, **fields)
    db.add(scale_file)
    db.flush()
    return scale_file


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def test_list_holds_sources_only_with_the_reference_fields(client, db, workspace):
    source = add_file(db, workspace, is_parsed=True, parsed=T0, data_type=["text"],
                      center_point={"type": "Point", "coordinates": [1, 2]})
    add_file(db, workspace, "made.txt", file_type="PRODUCT")

    resp = client.get("/api/sources/")

    assert ids(resp) == [source.id]
    entry = resp.get_json()["results"][0]
    assert entry["workspace"] == {"id": workspace.id, "name": "raw"}
    assert entry["is_parsed"] is True and entry["parsed"] == "2015-10-21T14:00:00.000Z"
    assert entry["center_point"] == "POINT (1 2)" and entry["data_type"] == ["text"]
    assert entry["url"] == f"http://localhost/api/sources/{source.id}/download/"
    assert {"uuid", "countries", "meta_data", "deleted", "is_deleted", "data_started"} <= set(entry)


def test_list_filters_and_time_range(client, db, workspace):
    parsed = add_file(db, workspace, "p.txt", is_parsed=True, parsed=T0 + dt.timedelta(days=3),
                      created=T0 - dt.timedelta(days=3))
    fresh = add_file(db, workspace, "f.txt", created=T0)

    assert ids(client.get("/api/sources/?is_parsed=true")) == [parsed.id]
    assert ids(client.get("/api/sources/?is_parsed=false")) == [fresh.id]
    assert ids(client.get("/api/sources/?file_name=f.txt")) == [fresh.id]
    # The range bounds `parsed`, else `created`.
    assert ids(client.get("/api/sources/?started=2015-10-22T00:00:00Z")) == [parsed.id]
    assert ids(client.get("/api/sources/?ended=2015-10-22T00:00:00Z")) == [fresh.id]
    assert ids(client.get("/api/sources/?order=file_name")) == [fresh.id, parsed.id]
    assert ids(client.get("/api/sources/?order=-workspace__name&order=-file_name")) == [parsed.id, fresh.id]
    assert client.get("/api/sources/?is_parsed=sometimes").get_json()["field"] == "is_parsed"


def test_list_pages(client, db, workspace):
    made = [add_file(db, workspace, f"{i}.txt") for i in range(3)]
    page = client.get("/api/sources/?page=1&page_size=2&order=id").get_json()
    assert page["count"] == 3 and [r["id"] for r in page["results"]] == [made[0].id, made[1].id]
    assert page["next"] and page["previous"] is None


def test_updates_name_the_latest_action_and_bound_its_time(client, db, workspace):
    created = add_file(db, workspace, "c.txt", created=T0)
    parsed = add_file(db, workspace, "p.txt", created=T0 - dt.timedelta(days=9), is_parsed=True,
                      parsed=T0 + dt.timedelta(hours=1))
    deleted = add_file(db, workspace, "d.txt", created=T0 - dt.timedelta(days=9), is_deleted=True,
                       deleted=T0 + dt.timedelta(hours=2))

    resp = client.get("/api/sources/updates/?started=2015-10-21T00:00:00Z&order=file_name")

    assert ids(resp) == [created.id, deleted.id, parsed.id]
    updates = {r["file_name"]: r["update"] for r in resp.get_json()["results"]}
    assert updates == {"c.txt": {"action": "CREATED", "when": "2015-10-21T14:00:00.000Z"},
                       "p.txt": {"action": "PARSED", "when": "2015-10-21T15:00:00.000Z"},
                       "d.txt": {"action": "DELETED", "when": "2015-10-21T16:00:00.000Z"}}
    assert ids(client.get("/api/sources/updates/?started=2015-10-21T15:30:00Z")) == [deleted.id]


def test_details_hold_ingests_jobs_and_products(client, db, workspace):
    source = add_file(db, workspace)
    other = add_file(db, workspace, "other.txt")
    strike = Strike(name="feed", configuration={})
    db.add(strike)
    db.flush()
    ingest = Ingest(strike_id=strike.id, file_name="a.txt", status="INGESTED", source_file_id=source.id)
    db.add(ingest)
    job_type = make_job_type(db)
    # A job that ran on the source and made a product, and one that ran on that product.
    first = queued_job(db, job_type)
    product = add_file(db, workspace, "made.txt", file_type="PRODUCT", job_id=first.id, job_type_id=job_type.id,
                       job_exe_id=first.job_exes[0].id)
    second = queued_job(db, job_type)
    grandchild = add_file(db, workspace, "more.txt", file_type="PRODUCT", job_id=second.id,
                          job_type_id=job_type.id, job_exe_id=second.job_exes[0].id)
    db.add_all([
        FileAncestryLink(ancestor_id=source.id, descendant_id=product.id, job_id=first.id,
                         job_exe_id=first.job_exes[0].id),
        FileAncestryLink(ancestor_id=source.id, descendant_id=grandchild.id, job_id=second.id,
                         job_exe_id=second.job_exes[0].id),
        FileAncestryLink(ancestor_id=product.id, descendant_id=grandchild.id, job_id=second.id,
                         job_exe_id=second.job_exes[0].id),
    ])
    # A job and a recipe job its trigger events created, not run yet; and an unrelated job.
    triggered = new_job(db, job_type)
    triggered.event.source_file_id = source.id
    recipe_job = new_job(db, job_type)
    recipe_event = TriggerEvent(type="INGEST", source_file_id=source.id, occurred=T0)
    recipe_type = RecipeType(name="chain", version="1.0", definition={})
    db.add_all([recipe_event, recipe_type])
    db.flush()
    revision = RecipeTypeRevision(recipe_type_id=recipe_type.id, revision_num=1, definition={})
    db.add(revision)
    db.flush()
    recipe = Recipe(recipe_type_id=recipe_type.id, recipe_type_rev_id=revision.id, event_id=recipe_event.id,
                    data={})
    db.add(recipe)
    db.flush()
    db.add(RecipeJob(recipe_id=recipe.id, job_name="first", job_id=recipe_job.id))
    unrelated = new_job(db, job_type)
    unrelated.event.source_file_id = other.id
    db.commit()

    body = client.get(f"/api/sources/{source.id}/").get_json()

    assert body["id"] == source.id and body["file_name"] == "a.txt"
    assert [i["id"] for i in body["ingests"]] == [ingest.id]
    assert body["ingests"][0]["strike"]["name"] == "feed" and "source_file" not in body["ingests"][0]
    assert [j["id"] for j in body["jobs"]] == sorted([first.id, second.id, triggered.id, recipe_job.id])
    assert body["jobs"][0]["job_type"]["name"] == "algo"
    assert [p["id"] for p in body["products"]] == [product.id, grandchild.id]
    assert body["products"][0]["job_type"]["name"] == "algo"


def test_a_product_is_not_a_source(client, db, workspace):
    product = add_file(db, workspace, "made.txt", file_type="PRODUCT")
    assert client.get(f"/api/sources/{product.id}/").status_code == 404
    assert client.get(f"/api/sources/{product.id}/download/").status_code == 404
    assert client.get("/api/sources/987654/").status_code == 404


def test_download_streams_the_bytes(client, db, workspace, token):
    source = add_file(db, workspace)
    db.commit()

    resp = client.get(f"/api/sources/{source.id}/download/", headers=token)

    assert resp.status_code == 200
    assert resp.data == CONTENT
    assert resp.mimetype == "text/plain"
    assert "a.txt" in resp.headers["Content-Disposition"]


def test_download_needs_a_token_unless_the_workspace_is_public(client, db, workspace):
    source = add_file(db, workspace)
    db.commit()

    resp = client.get(f"/api/sources/{source.id}/download/")
    assert resp.status_code == 401
    assert CONTENT not in resp.data

    workspace.is_public = True
    db.commit()
    resp = client.get(f"/api/sources/{source.id}/download/")
    assert resp.status_code == 200 and resp.data == CONTENT


def test_download_of_a_deleted_or_missing_file_is_404(client, db, workspace, token):
    deleted = add_file(db, workspace, is_deleted=True, deleted=T0)
    missing = add_file(db, workspace, "gone.txt")
    db.commit()

    assert client.get(f"/api/sources/{deleted.id}/download/", headers=token).status_code == 404
    assert client.get(f"/api/sources/{missing.id}/download/", headers=token).status_code == 404
    assert client.get(f"/api/sources/{deleted.id}/").get_json()["is_deleted"] is True
