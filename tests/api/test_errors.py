"""Error services: /api/errors/."""

from sqlalchemy import func, select

from scale.models.errors import Error


def error_body(**overrides):
    return {"name": "bad-pixels", "title": "Bad Pixels", "description": "Too many bad pixels",
            "category": "DATA", **overrides}


def count_errors(db):
    return db.scalar(select(func.count()).select_from(Error))


def test_seeded_system_errors_are_listed(client):
    resp = client.get("/api/errors/?category=SYSTEM")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] >= 1 and all(e["category"] == "SYSTEM" for e in body["results"])
    assert "unknown" in {e["name"] for e in body["results"]}


def test_create_error_returns_details_and_location(client, token):
    resp = client.post("/api/errors/", json=error_body(), headers=token)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["name"] == "bad-pixels" and body["category"] == "DATA"
    assert body["created"].endswith("Z")
    assert resp.headers["Location"].endswith(f"/api/errors/{body['id']}/")
    assert client.get(f"/api/errors/{body['id']}/").get_json() == body


def test_edit_error_changes_only_given_fields(client, token):
    created = client.post("/api/errors/", json=error_body(), headers=token).get_json()
    resp = client.patch(f"/api/errors/{created['id']}/", json={"title": "Pixels!"}, headers=token)
    assert resp.status_code == 200
    assert resp.get_json()["title"] == "Pixels!"
    assert resp.get_json()["description"] == "Too many bad pixels"


def test_create_without_token_is_401_and_writes_nothing(client, db):
    before = count_errors(db)
    resp = client.post("/api/errors/", json=error_body())
    assert resp.status_code == 401
    assert "Authorization" in resp.get_json()["message"]
    assert count_errors(db) == before


def test_create_with_wrong_token_is_401(client):
    resp = client.post("/api/errors/", json=error_body(), headers={"Authorization": "Token nope"})
    assert resp.status_code == 401


def test_duplicate_name_is_400_naming_name(client, token, db):
    client.post("/api/errors/", json=error_body(), headers=token)
    before = count_errors(db)
    resp = client.post("/api/errors/", json=error_body(title="again"), headers=token)
    assert resp.status_code == 400
    assert resp.get_json()["message"].startswith("name:")
    assert count_errors(db) == before


def test_system_category_cannot_be_created(client, token, db):
    before = count_errors(db)
    resp = client.post("/api/errors/", json=error_body(category="SYSTEM"), headers=token)
    assert resp.status_code == 400
    assert "category" in resp.get_json()["message"]
    assert count_errors(db) == before


def test_missing_name_is_400(client, token):
    body = error_body()
    del body["name"]
    resp = client.post("/api/errors/", json=body, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"


def test_malformed_json_is_400(client, token):
    resp = client.post("/api/errors/", data="{nope", content_type="application/json", headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"


def test_unknown_field_on_patch_is_400_and_changes_nothing(client, token):
    created = client.post("/api/errors/", json=error_body(), headers=token).get_json()
    resp = client.patch(f"/api/errors/{created['id']}/", json={"title": "x", "colour": "red"},
                        headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "colour"
    assert client.get(f"/api/errors/{created['id']}/").get_json()["title"] == "Bad Pixels"


def test_wrong_type_is_400(client, token):
    resp = client.post("/api/errors/", json=error_body(title=12), headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "title"


def test_unknown_id_is_404(client, token):
    assert client.get("/api/errors/999999/").status_code == 404
    assert client.patch("/api/errors/999999/", json={"title": "x"}, headers=token).status_code == 404


def test_list_orders_and_paginates(client, token):
    for name in ("e-a", "e-b", "e-c"):
        client.post("/api/errors/", json=error_body(name=name), headers=token)
    resp = client.get("/api/errors/?category=DATA&order=-name&page_size=2")
    body = resp.get_json()
    assert body["count"] == 3
    assert [e["name"] for e in body["results"]] == ["e-c", "e-b"]
    assert "page=2" in body["next"] and body["previous"] is None
    second = client.get(body["next"]).get_json()
    assert [e["name"] for e in second["results"]] == ["e-a"]


def test_bad_list_argument_is_400(client):
    resp = client.get("/api/errors/?order=colour")
    assert resp.status_code == 400 and resp.get_json()["field"] == "order"


def test_builtin_error_cannot_be_edited(client, token):
    unknown = client.get("/api/errors/?name=unknown").get_json()["results"][0]
    resp = client.patch(f"/api/errors/{unknown['id']}/", json={"category": "DATA"}, headers=token)
    assert resp.status_code == 400 and resp.get_json()["field"] == "name"
    assert client.get(f"/api/errors/{unknown['id']}/").get_json()["category"] == "SYSTEM"
