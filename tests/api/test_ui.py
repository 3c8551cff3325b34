"""The web UI's routes: every page URL of the route table answers with the app shell (so it can be
bookmarked and reloaded), the shell carries the table and its navigation, the shell loads only
files this package serves, and `/api/` answers with links."""

from __future__ import annotations

import json
import re

import pytest

from api.ui import ROUTES

PAGE_URLS = [re.sub(r"<int:item_id>", "7", route["path"]) for route in ROUTES]
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", PAGE_URLS + ["/jobs/", "/jobs/7/", "/settings/"])
def test_every_page_url_answers_with_the_app_shell(client, path):
    resp = client.get(path, headers=BROWSER)
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert b'<main id="app"' in resp.data


def test_the_shell_loads_only_files_served_here(client):
    page = client.get("/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    local = [s for s in sources if s.startswith("/ui/static/")]
    assert "/ui/static/js/app.js" in local
    assert "/ui/static/vendor/chart.js/chart.umd.min.js" in local
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for path in local:
        resp = client.get(path)
        assert resp.status_code == 200, path
        resp.close()


def test_the_shell_carries_the_route_table_and_its_navigation(client):
    page = client.get("/jobs/7").get_data(as_text=True)
    table = re.search(r'<script type="application/json" id="routes">(.*?)</script>', page, re.S)
    assert table and json.loads(table.group(1)) == ROUTES
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    assert links == [(route["path"], route["title"]) for route in ROUTES if "title" in route]
    assert '<a href="/settings" id="signin">Settings</a>' in nav
    assert {route["under"] for route in ROUTES if "under" in route} <= {path for path, _ in links}


def test_every_route_names_a_served_page_module_that_exports_its_render_function(client):
    for route in ROUTES:
        resp = client.get(f"/ui/static/js/pages/{route['page']}.js")
        assert resp.status_code == 200, route
        assert re.search(rf"^export (async )?function {route['render']}\(", resp.get_data(as_text=True), re.M), route
        resp.close()


def test_unknown_paths_stay_404(client):
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/jobs/x").status_code == 404


def test_api_root_answers_with_links(client):
    resp = client.get("/api/")
    assert resp.status_code == 200
    assert resp.get_json() == {"docs": "http://localhost/api/docs", "swagger": "http://localhost/api/swagger.json",
                               "ui": "http://localhost/"}
