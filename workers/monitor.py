"""A module-level Celery app for tools that load one by name, configured from the environment
as every Scale process is (`SCALE_HOME`, `SCALE_BROKER_URL`, ...):

    celery -A workers.monitor:celery flower
    celery -A workers.monitor:celery inspect active

Scale's own processes build their app with `make_celery`; only such tools import this."""

from __future__ import annotations

import os
from pathlib import Path

from scale.settings import Settings
from workers.app import make_celery

celery = make_celery(Settings.from_env(os.environ, home=Path(os.environ.get("SCALE_HOME", ".scale"))))
