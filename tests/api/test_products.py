"""Product services: GET /api/products/, /api/products/updates/ and the download of a product's
bytes through its workspace broker, GET /api/products/{id}/download/ (beyond the reference)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from scale.models.files import FileAncestryLink, ScaleFile, ScaleFileType
from scale.models.job_types import JobType, JobTypeRevision
from scale.models.jobs import JobExecution
from scale.models.triggers import TriggerEvent
from scale.models.workspaces import Workspace
from scale.queue.factory import new_job
from scale.specs.job_data import JobData
from scale.timeutil import utcnow

CONTENT = b"line one\nline two\n"


@pytest.fixture
def world(db, tmp_path: Path) -> dict:
    """A host workspace holding one product file, two job types, one job and its execution."""
    root = tmp_path / "products"
    (root / "out").mkdir(parents=True)
    (root / "out" / "made.txt").write_bytes(CONTENT)
    workspace = Workspace(name="products", json_config={"version": "1.0", "broker": {
        "type": "host", "host_path": str(root)}})
    kml = JobType(name="kml", version="1.0", category="footprint", interface={}, is_operational=True)
    rnd = JobType(name="research", version="2.0", category="science", interface={}, is_operational=False)
    db.add_all([workspace, kml, rnd])
    db.flush()
    revision = JobTypeRevision(job_type_id=kml.id, revision_num=1, interface={})
    event = TriggerEvent(type="USER", occurred=utcnow())
    db.add_all([revision, event])
    db.flush()
    job = new_job(kml, revision, event, JobData(), utcnow())
    db.add(job)
    db.flush()
    exe = JobExecution(job=job, timeout=60, queued=utcnow())
    db.add(exe)
    db.flush()
    db.commit()
    return {"workspace": workspace, "kml": kml, "research": rnd, "job": job, "exe": exe}


def add_file(db, world: dict, name: str, *, file_type: str = ScaleFileType.PRODUCT, job_type=None,
             **fields) -> ScaleFile:
    job_type = job_type or world["kml"]
    product_fields = {"job_type_id": job_type.id, "is_operational": job_type.is_operational,
                      "job_id": world["job"].id, "job_exe_id": world["exe"].id} \
        if file_type == ScaleFileType.PRODUCT else {}
    scale_file = ScaleFile(file_type=file_type, file_name=name, media_type="text/plain", file_size=len(CONTENT),
                           file_path=f"out/{name}", workspace=world["workspace"], uuid=uuid.uuid4().hex,
                           **product_fields, **fields)
    db.add(scale_file)
    db.flush()
    db.commit()
    return scale_file


def ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [r["id"] for r in resp.get_json()["results"]]


def test_product_list_holds_products_only_with_their_fields(client, db, world):
    made = add_file(db, world, "made.txt", geometry={"type": "Point", "coordinates": [1.5, 2]})
    add_file(db, world, "source.txt", file_type=ScaleFileType.SOURCE)

    resp = client.get("/api/products/")

    assert ids(resp) == [made.id]
    entry = resp.get_json()["results"][0]
    assert entry["workspace"] == {"id": world["workspace"].id, "name": "products"}
    assert entry["job_type"]["name"] == "kml"
    assert entry["job"] == {"id": world["job"].id} and entry["job_exe"] == {"id": world["exe"].id}
    assert entry["geometry"] == "POINT (1.5 2)"
    assert entry["url"] == f"http://localhost/api/products/{made.id}/download/"
    assert entry["countries"] == [] and entry["is_operational"] is True


def test_product_url_uses_the_workspace_base_url_when_it_has_one(client, db, world):
    world["workspace"].base_url = "http://files.example/products/"
    made = add_file(db, world, "made.txt")
    entry = client.get("/api/products/").get_json()["results"][0]
    assert entry["id"] == made.id
    assert entry["url"] == "http://files.example/products/out/made.txt"


def test_product_list_filters_and_orders(client, db, world):
    kml = add_file(db, world, "a.kml")
    research = add_file(db, world, "b.txt", job_type=world["research"])

    assert ids(client.get("/api/products/?job_type_name=research")) == [research.id]
    assert ids(client.get(f"/api/products/?job_type_id={world['kml'].id}")) == [kml.id]
    both = "/api/products/?job_type_category=science&job_type_category=footprint&order=file_name"
    assert ids(client.get(both)) == [kml.id, research.id]
    assert ids(client.get("/api/products/?is_operational=false")) == [research.id]
    assert ids(client.get("/api/products/?file_name=a.kml")) == [kml.id]
    assert ids(client.get("/api/products/?order=-job_type__name")) == [research.id, kml.id]
    bad = client.get("/api/products/?is_operational=maybe")
    assert bad.status_code == 400 and bad.get_json()["field"] == "is_operational"


def test_product_updates_list_published_products_with_their_action_and_sources(client, db, world):
    now = utcnow()
    source = add_file(db, world, "raw.h5", file_type=ScaleFileType.SOURCE)
    published = add_file(db, world, "pub.txt", has_been_published=True, is_published=True, published=now)
    unpublished = add_file(db, world, "unpub.txt", has_been_published=True, published=now, unpublished=now)
    deleted = add_file(db, world, "gone.txt", has_been_published=True, published=now, is_deleted=True, deleted=now)
    add_file(db, world, "never.txt")
    db.add(FileAncestryLink(ancestor_id=source.id, descendant_id=published.id, job_exe_id=world["exe"].id,
                            job_id=world["job"].id))
    db.commit()

    resp = client.get("/api/products/updates/?order=id")

    assert ids(resp) == [published.id, unpublished.id, deleted.id]
    results = resp.get_json()["results"]
    assert [r["update"]["action"] for r in results] == ["PUBLISHED", "UNPUBLISHED", "DELETED"]
    assert all(r["update"]["when"] is not None for r in results)
    assert [f["id"] for f in results[0]["source_files"]] == [source.id]
    assert results[0]["source_files"][0]["is_parsed"] is False
    assert results[1]["source_files"] == []


def test_download_streams_the_product_bytes(client, db, world, token):
    made = add_file(db, world, "made.txt")

    resp = client.get(f"/api/products/{made.id}/download/", headers=token)

    assert resp.status_code == 200
    assert resp.data == CONTENT
    assert resp.mimetype == "text/plain"
    assert "made.txt" in resp.headers["Content-Disposition"]
    resp.close()


def test_download_needs_a_token_unless_the_workspace_is_public(client, db, world):
    made = add_file(db, world, "made.txt")

    resp = client.get(f"/api/products/{made.id}/download/")
    assert resp.status_code == 401
    assert CONTENT not in resp.data

    world["workspace"].is_public = True
    db.flush()
    resp = client.get(f"/api/products/{made.id}/download/")
    assert resp.status_code == 200 and resp.data == CONTENT
    resp.close()


@pytest.mark.parametrize("case", ["unknown", "source", "deleted", "missing"])
def test_download_is_not_found_for_what_is_not_a_stored_product(client, db, world, token, case):
    product_id = {
        "unknown": lambda: 999999,
        "source": lambda: add_file(db, world, "made.txt", file_type=ScaleFileType.SOURCE).id,
        "deleted": lambda: add_file(db, world, "made.txt", is_deleted=True).id,
        "missing": lambda: add_file(db, world, "not-there.txt").id,
    }[case]()

    resp = client.get(f"/api/products/{product_id}/download/", headers=token)

    assert resp.status_code == 404
    assert "message" in resp.get_json()
