"""Fixtures for the API tests (tests/conftest.py gives `client`, `token`, `db` and the rest)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from scale.models.workspaces import Workspace


@pytest.fixture
def rs_workspace(db: Session) -> Workspace:
    """The workspace `rs` the reference's Create Job Type example's trigger rule names."""
    workspace = Workspace(name="rs", json_config={"version": "1.0",
                                                  "broker": {"type": "host", "host_path": "/tmp/rs"}})
    db.add(workspace)
    db.commit()
    return workspace
