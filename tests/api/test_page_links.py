"""List envelopes (`api/listing.py`): `next` and `previous` links repeat the request's
arguments, URL-encoded, with only `page` changed, so following a link lists the next page of
the same query."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

ARGS = [("category", "DATA"), ("category", "ALGORITHM"), ("note", "a&b=c #1 50% é+d"), ("page_size", "2")]


def test_page_links_encode_the_arguments_and_keep_repeated_filters(client, token):
    for name, category in (("e-a", "DATA"), ("e-b", "ALGORITHM"), ("e-c", "DATA")):
        resp = client.post("/api/errors/", json={"name": name, "category": category}, headers=token)
        assert resp.status_code == 201, resp.get_json()

    first = client.get("/api/errors/?" + urlencode(ARGS)).get_json()

    link = urlsplit(first["next"])
    assert (link.path, link.fragment) == ("/api/errors/", "")
    assert parse_qsl(link.query) == [*ARGS, ("page", "2")]
    second = client.get(first["next"]).get_json()
    assert second == client.get("/api/errors/?" + urlencode([*ARGS, ("page", "2")])).get_json()
    assert second["count"] == first["count"] >= 3 and second["results"]
    assert {e["category"] for e in first["results"] + second["results"]} == {"DATA", "ALGORITHM"}
    assert parse_qsl(urlsplit(second["previous"]).query) == [*ARGS, ("page", "1")]
