"""The web UI in Debian's chromium against a real `scale up` with real jobs (see conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_until
from tests.scale_up import Scale
from tests.ui_tabs import Tab, open_tab

pytestmark = pytest.mark.integration


def job_of(scale: Scale, recipe_id: int, name: str) -> dict:
    return next(j["job"] for j in scale.get(f"/recipes/{recipe_id}/")["jobs"] if j["job_name"] == name)


def page_urls(scale: Scale) -> dict[str, str]:
    ids = scale.ids
    shout = job_of(scale, ids["recipe"], "shout")
    return {
        "dashboard": "/", "job-types": "/job-types", "job-type": f"/job-types/{ids['make-greeting']}",
        "jobs": "/jobs?status=COMPLETED", "job": f"/jobs/{shout['id']}", "failed-job": f"/jobs/{ids['failed-job']}",
        "recipes": "/recipes", "recipe": f"/recipes/{ids['recipe']}",
        "recipe-type": f"/recipe-types/{ids['recipe-type']}",
        "queue": "/queue", "ingest": "/ingest", "sources": "/sources", "products": "/products", "nodes": "/nodes",
        "workspaces": "/workspaces", "errors": "/errors", "metrics": "/metrics", "settings": "/settings",
    }


def show(tab: Tab, path: str) -> Any:
    """Load `path` as a bookmark would (a full page load) and wait until the page has drawn."""
    page = tab.page
    page.goto(path)
    page.wait_for_selector("main h1")
    page.wait_for_load_state("networkidle")
    return page


def test_every_page_loads_without_console_errors(browser: Any, scale: Scale, artifacts: Path) -> None:
    tab = open_tab(browser, scale, signed_in=True)
    for name, path in page_urls(scale).items():
        page = show(tab, path)
        assert page.locator("main .notice.error").count() == 0, f"{path}: {page.locator('main').inner_text()}"
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    assert tab.errors == [], tab.errors
    tab.page.context.close()
    phone = open_tab(browser, scale, signed_in=False, viewport={"width": 390, "height": 844})
    for name in ("dashboard", "job"):
        show(phone, page_urls(scale)[name]).screenshot(path=str(artifacts / f"phone-{name}.png"), full_page=True)
    assert phone.errors == []
    phone.page.context.close()


def test_read_only_without_a_token(browser: Any, scale: Scale) -> None:
    tab = open_tab(browser, scale, signed_in=False)
    for path in ("/", "/jobs", "/job-types", "/nodes", "/settings"):
        show(tab, path)
    assert tab.errors == [], tab.errors
    page = show(tab, "/job-types")
    assert page.get_by_role("button", name="Pause").first.is_disabled()
    assert page.locator("header nav #signin").inner_text() == "Sign in"
    tab.page.context.close()


def test_sign_in_stores_the_token(browser: Any, scale: Scale) -> None:
    tab = open_tab(browser, scale, signed_in=False)
    page = show(tab, "/settings")
    page.fill("#signin-form input[name=token]", "not-a-token")
    page.click("#signin-form button")
    page.wait_for_selector(".toast.error")
    assert page.evaluate("localStorage.getItem('scale.token')") is None
    page.fill("#signin-form input[name=token]", scale.token)
    page.click("#signin-form button")
    page.get_by_role("button", name="Sign out").wait_for()
    assert page.evaluate("localStorage.getItem('scale.token')") == scale.token
    tab.page.context.close()


def test_dashboard_shows_the_real_queue_depth(tab: Tab, scale: Scale) -> None:
    # With the scheduler paused, the queued jobs stay queued while the page is read.
    # The page is open before the jobs are queued: it refreshes itself to show them.
    held = scale.ids["held"]
    scale.api("PATCH", "/scheduler/", {"is_paused": True})
    page = show(tab, "/")
    page.wait_for_function("document.querySelector('#kpi-queue-depth b')?.textContent === '0'")
    job_ids = [scale.api("POST", "/queue/new-job/", {"job_type_id": held, "job_data": {
        "version": "1.0", "input_data": [], "output_data": []}})["id"] for _ in range(3)]
    try:
        depth = scale.get("/status/")["queue_depth"]
        assert depth == 3
        page.wait_for_function("document.querySelector('#kpi-queue-depth b')?.textContent === '3'")
        assert page.locator("main").get_by_text("held 1.0").count() == 1
    finally:
        scale.api("POST", "/queue/cancel-jobs/", {"job_ids": job_ids})
        scale.api("PATCH", "/scheduler/", {"is_paused": False})


def test_the_queue_and_jobs_pages_say_why_a_job_waits(tab: Tab, scale: Scale) -> None:
    # Queued while the scheduler is paused (see the next test), then left to the scheduler: it
    # can never place the job, so every page shows why, flagged.
    scale.api("PATCH", "/scheduler/", {"is_paused": True})
    job_id = scale.api("POST", "/queue/new-job/", {"job_type_id": scale.ids["too-large"], "job_data": {
        "version": "1.0", "input_data": [], "output_data": []}})["id"]
    scale.api("PATCH", "/scheduler/", {"is_paused": False})
    try:
        assert scale.get(f"/jobs/{job_id}/")["can_never_fit"] is True
        for path in ("/queue", "/jobs?status=QUEUED"):
            page = show(tab, path)
            row = page.locator("main tr", has_text=f"#{job_id}")
            row.locator(".badge.s-NEVER-FITS", has_text="CAN NEVER FIT").wait_for()
            assert "larger than every online node" in row.inner_text(), path
        page = show(tab, "/queue")
        page.locator("main td .badge", has_text="1 TOO_LARGE").wait_for()
        page = show(tab, f"/jobs/{job_id}")
        page.locator("dl.props .why-queued .badge.s-NEVER-FITS").wait_for()
    finally:
        scale.api("POST", "/queue/cancel-jobs/", {"job_ids": [job_id]})


def test_a_queued_job_is_followed_through_its_live_log(tab: Tab, scale: Scale, artifacts: Path) -> None:
    page = show(tab, "/queue")
    form = page.locator("details", has_text="New job (POST /api/queue/new-job/)")
    form.locator("summary").click()
    form.locator("textarea").fill(json.dumps({"job_type_id": scale.ids["count-slowly"], "job_data": {
        "version": "1.0", "input_data": [], "output_data": []}}))
    form.get_by_role("button", name="Send").click()
    toast = page.locator(".toast", has_text="Queued job")
    job_id = int(re.search(r"Queued job (\d+)", toast.inner_text()).group(1))

    page = show(tab, f"/jobs/{job_id}")
    # The log grows while the job runs: a part of it shows before the job is over.
    page.wait_for_function("/step [1-5] of 6/.test(document.querySelector('pre.log')?.textContent || '')"
                           " && !/step 6 of 6/.test(document.querySelector('pre.log').textContent)")
    assert scale.job_status(job_id) == "RUNNING"
    page.screenshot(path=str(artifacts / "job-running.png"), full_page=True)
    page.locator("main h1 .badge", has_text="COMPLETED").wait_for()
    # The page shows the whole log once the job has ended (fetched after the status changed).
    page.wait_for_function("/step 6 of 6/.test(document.querySelector('pre.log')?.textContent || '')")
    assert scale.job_status(job_id) == "COMPLETED"


def test_a_failed_job_shows_its_error_category_and_stderr(tab: Tab, scale: Scale) -> None:
    page = show(tab, f"/jobs/{scale.ids['failed-job']}")
    failure = page.locator("#failure")
    failure.locator("#stderr-tail").wait_for()
    text = failure.inner_text()
    assert "Bad Text" in text and "DATA" in text
    assert "cannot read line 7: not UTF-8" in failure.locator("#stderr-tail").inner_text()
    # A DATA failure is final: the page must not promise "1 of 3" tries.
    tries = page.locator("dt", has_text="Tries").locator("xpath=following-sibling::dd[1]").inner_text()
    assert tries == "1 (final: DATA errors are not retried)"


def test_a_job_type_is_paused_and_resumed(tab: Tab, scale: Scale) -> None:
    job_type = scale.ids["make-greeting"]
    page = show(tab, "/job-types")
    row = page.locator("tr", has=page.get_by_role("link", name="Make Greeting 1.0"))
    row.get_by_role("button", name="Pause").click()
    row.get_by_role("button", name="Resume").wait_for()
    assert row.locator(".badge", has_text="PAUSED").count() == 1
    assert scale.get(f"/job-types/{job_type}/")["is_paused"] is True
    row.get_by_role("button", name="Resume").click()
    row.get_by_role("button", name="Pause").wait_for()
    assert scale.get(f"/job-types/{job_type}/")["is_paused"] is False


def test_a_recipe_graph_shows_its_jobs(tab: Tab, scale: Scale, artifacts: Path) -> None:
    page = show(tab, f"/recipes/{scale.ids['recipe']}")
    page.wait_for_function("document.querySelector('#dag')?.cy?.nodes().length === 2")
    nodes = page.evaluate("document.querySelector('#dag').cy.nodes()"
                          ".map(n => [n.id(), n.data('status'), n.data('href')])")
    jobs = {name: job_of(scale, scale.ids["recipe"], name) for name in ("make", "shout")}
    assert sorted(nodes) == sorted([name, "COMPLETED", f"/jobs/{job['id']}"] for name, job in jobs.items())
    assert page.evaluate("document.querySelector('#dag').cy.edges().map(e => [e.source().id(), e.target().id()])") \
        == [["make", "shout"]]
    page.locator("#dag canvas").first.screenshot(path=str(artifacts / "recipe-graph.png"))
    # A click on a job's node opens that job.
    box = page.evaluate("(() => { const dag = document.querySelector('#dag');"
                        " const p = dag.cy.$id('shout').renderedPosition();"
                        " const r = dag.getBoundingClientRect(); return [r.x + p.x, r.y + p.y]; })()")
    page.mouse.click(*box)
    page.wait_for_url(f"**/jobs/{jobs['shout']['id']}")


def test_a_node_is_paused_with_a_reason(tab: Tab, scale: Scale, artifacts: Path) -> None:
    wait_until(lambda: scale.get("/nodes/")["results"], what="the local node to register", timeout=60)
    node = scale.get("/nodes/")["results"][0]
    page = show(tab, "/nodes")
    row = page.locator("tr", has_text=node["hostname"])
    row.get_by_role("textbox").fill("disk swap")
    row.get_by_role("button", name="Pause").click()
    row.get_by_role("button", name="Resume").wait_for()
    detail = scale.get(f"/nodes/{node['id']}/")
    assert (detail["is_paused"], detail["pause_reason"]) == (True, "disk swap")
    assert "disk swap" in row.inner_text()
    page.screenshot(path=str(artifacts / "nodes-paused.png"), full_page=True)
    row.get_by_role("button", name="Resume").click()
    row.get_by_role("button", name="Pause").wait_for()
    assert scale.get(f"/nodes/{node['id']}/")["is_paused"] is False


def test_job_filters_and_order_live_in_the_url(tab: Tab, scale: Scale) -> None:
    page = show(tab, "/jobs")
    page.select_option("form.filters select[name=status]", "FAILED")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs\?status=FAILED"))
    page.get_by_role("columnheader", name="Job", exact=True).click()
    page.wait_for_url(re.compile(r"order=id"))
    page.reload()
    page.wait_for_selector("main table")
    assert page.locator("form.filters select[name=status]").input_value() == "FAILED"
    statuses = page.locator("main table tbody td .badge").all_inner_texts()
    assert statuses and set(statuses) == {"FAILED"}
    ids = [int(t.lstrip("#")) for t in page.locator("main table tbody tr td:first-child a").all_inner_texts()]
    assert ids == sorted(ids)


def test_products_are_found_by_name_and_downloaded(tab: Tab, scale: Scale) -> None:
    page = show(tab, "/products")
    page.fill("form.filters input[name=file_name]", "shout.txt")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"file_name=shout.txt"))
    page.wait_for_function("document.querySelectorAll('main table tbody tr').length === 1")
    # The products' workspace is not public: the download carries the signed-in token.
    with page.expect_download() as download:
        page.locator("main table tbody tr a", has_text="download").click()
    assert download.value.suggested_filename == "shout.txt"
    assert Path(download.value.path()).read_text() == "HELLO, WORLD\n"


def test_configuration_export_is_validated_live_for_import(tab: Tab, scale: Scale) -> None:
    page = show(tab, "/settings")
    export = page.get_by_role("link", name="Download configuration.json").get_attribute("href")
    exported = page.request.get(export).json()
    assert "greet-loudly" in json.dumps(exported)
    form = page.locator("#import")
    form.locator("summary").click()
    form.locator("textarea").fill('{"import": ')
    form.get_by_text("Not JSON").wait_for()
    form.locator("textarea").fill(json.dumps({"import": exported}))
    form.locator("p", has_text=re.compile(r"^Valid")).wait_for()
    form.locator("textarea").fill(json.dumps({"import": {**exported, "version": "9.9"}}))
    form.locator("textarea.invalid").wait_for()
    assert "version" in form.locator("p.small").inner_text()
    # The browser logs the validation endpoint's 400 as a failed resource: that one is expected.
    tab.errors[:] = [e for e in tab.errors if "status of 400" not in e]


def test_a_strike_made_on_the_ingest_page_ingests_a_file(tab: Tab, scale: Scale, tmp_path: Path,
                                                          artifacts: Path) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    scale.api("POST", "/workspaces/", {"name": "raw", "json_config": {
        "version": "1.0", "broker": {"type": "host", "host_path": str(tmp_path / "raw")}}})
    page = show(tab, "/ingest")
    form = page.locator("details", has_text="New Strike (POST /api/strike/create/)")
    form.locator("summary").click()
    form.locator("textarea").fill(json.dumps({"name": "notes", "configuration": {
        "version": "1.0", "mount": str(incoming), "transfer_suffix": "_tmp",
        "files_to_ingest": [{"filename_regex": ".*[.]txt$", "data_types": ["note"], "workspace_path": "notes",
                             "workspace_name": "raw"}]}}))
    form.get_by_role("button", name="Send").click()
    # The page reloads itself as the Strike's job starts and the file is ingested.
    row = page.locator("tr", has_text="notes")
    row.locator(".badge", has_text="RUNNING").wait_for(timeout=90_000)
    (incoming / "note.txt_tmp").write_text("hello, files\n")
    (incoming / "note.txt_tmp").rename(incoming / "note.txt")
    page.locator("tr", has_text="note.txt").locator(".badge", has_text="INGESTED").wait_for(timeout=90_000)
    page.screenshot(path=str(artifacts / "ingest-strike.png"), full_page=True)
    strike = scale.get("/strikes/")["results"][0]
    job = scale.get(f"/jobs/{strike['job']['id']}/")
    scale.api("PATCH", f"/jobs/{job['id']}/", {"status": "CANCELED"})


def test_the_metrics_page_charts_the_rollups_it_recomputes(tab: Tab, scale: Scale) -> None:
    page = show(tab, "/metrics?name=job-types")
    page.get_by_role("button", name="Recompute today").click()
    page.locator(".toast", has_text="Recomputed").wait_for()
    completed = page.locator("section.card", has=page.get_by_role("heading", name="Completed Count"))
    completed.locator("canvas").wait_for()
    assert page.locator(".notice", has_text="No rollups").count() == 0
    plot = scale.api("GET", "/metrics/job-types/plot-data/?column=completed_count&started=P1D")
    assert sum(value["value"] for value in plot["results"][0]["values"]) >= 1
