"""The Celery app's tasks share one retry policy (`workers.app.SystemTask`); the node's task,
whose runner retries the database itself, has none."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import OperationalError

from scale.settings import Settings
from workers.app import make_celery
from workers.node import RUN_EXECUTION
from workers.system_task import SystemTask


def test_every_system_task_retries_a_lost_database_with_backoff(tmp_path: Path):
    app = make_celery(Settings.embedded(tmp_path))
    system = {name: task for name, task in app.tasks.items()
              if name.startswith("scale.") and name != RUN_EXECUTION}

    assert sorted(system) == ["scale.advance_recipe", "scale.compute_metrics", "scale.evaluate_triggers",
                              "scale.ingest_files", "scale.process_clock_event", "scale.sweep_ingests",
                              "scale.sweep_recipes", "scale.sweep_triggers"]
    for task in system.values():
        assert isinstance(task, SystemTask)
        assert (task.autoretry_for, task.retry_backoff, task.max_retries) == ((OperationalError,), True, 5)
