"""GET /api/job-types/{id}/revisions/ (beyond the reference): the interface revisions the web
UI's job type page lists."""

from __future__ import annotations

import pytest

from tests.factories import interface, post_job_type

# The reference's trigger rule names the workspace `rs`.
pytestmark = pytest.mark.usefixtures("rs_workspace")


def test_lists_each_interface_revision_oldest_first(client, token, db):
    created = post_job_type(client, token)
    changed = interface(command_arguments="-v ${input_file} ${job_output_dir}")
    resp = client.patch(f"/api/job-types/{created['id']}/", json={"interface": changed}, headers=token)
    assert resp.status_code == 200
    resp = client.get(f"/api/job-types/{created['id']}/revisions/")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2
    assert [(r["revision_num"], r["interface"]["command_arguments"]) for r in body["results"]] == [
        (1, created["interface"]["command_arguments"]), (2, changed["command_arguments"])]
    newest_first = client.get(f"/api/job-types/{created['id']}/revisions/?order=-revision_num").get_json()
    assert [r["revision_num"] for r in newest_first["results"]] == [2, 1]


def test_unknown_job_type_is_404(client, db):
    assert client.get("/api/job-types/999999/revisions/").status_code == 404
