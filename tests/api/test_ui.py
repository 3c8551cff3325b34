"""The web UI's routes: every page URL answers with the app shell (so it can be bookmarked and
reloaded), the shell loads only files this package serves, and `/api/` answers with links."""

from __future__ import annotations

import re

import pytest

from api.ui import PAGES

PAGE_URLS = [re.sub(r"<int:item_id>", "7", page) for page in PAGES]
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


def test_every_page_module_is_served(client):
    app_js = client.get("/ui/static/js/app.js").get_data(as_text=True)
    modules = re.findall(r'from "\./(pages/[a-z_]+\.js)"', app_js)
    assert len(modules) >= 9
    for module in modules:
        resp = client.get(f"/ui/static/js/{module}")
        assert resp.status_code == 200, module
        resp.close()


def test_unknown_paths_stay_404(client):
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/jobs/x").status_code == 404


def test_api_root_answers_with_links(client):
    resp = client.get("/api/")
    assert resp.status_code == 200
    assert resp.get_json() == {"docs": "http://localhost/api/docs", "swagger": "http://localhost/api/swagger.json",
                               "ui": "http://localhost/"}
