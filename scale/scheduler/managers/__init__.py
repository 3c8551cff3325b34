"""Resource managers, one module per type, in one registry keyed by name.

`Settings.resource_manager` picks one; `make_manager` builds it for the scheduler process."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import sessionmaker

from scale.exceptions import ConfigError
from scale.scheduler.managers.base import NodeOffer, ResourceManager
from scale.scheduler.managers.celery import CeleryManager
from scale.scheduler.managers.local import LocalManager
from scale.settings import Settings

__all__ = ["MANAGERS", "ExecutionFinished", "NodeOffer", "ResourceManager", "make_manager"]

# Called with a job_exe_id once its execution has ended and been recorded (committed).
ExecutionFinished = Callable[[int], None]


def _mesos(settings: Settings, sessions: sessionmaker, on_finished: ExecutionFinished | None) -> ResourceManager:
    # Imported here: only a Mesos scheduler needs the Mesos client and its dependencies.
    from scale.scheduler.managers.mesos import MesosManager

    return MesosManager.from_settings(settings, sessions, on_finished)


# name -> factory.
MANAGERS: dict[str, Callable[[Settings, sessionmaker, ExecutionFinished | None], ResourceManager]] = {
    LocalManager.name: LocalManager.from_settings,
    "mesos": _mesos,
    CeleryManager.name: CeleryManager.from_settings,
}


def make_manager(settings: Settings, sessions: sessionmaker, *,
                 on_finished: ExecutionFinished | None = None) -> ResourceManager:
    """The manager `settings.resource_manager` names. One not built yet is a ConfigError.

    `on_finished` lets the shell react to ended executions (send recipe advancement) without
    the domain knowing about Celery."""
    try:
        factory = MANAGERS[settings.resource_manager]
    except KeyError:
        raise ConfigError(f"SCALE_RESOURCE_MANAGER {settings.resource_manager!r} is not "
                          f"available yet; choose from {', '.join(sorted(MANAGERS))}") from None
    return factory(settings, sessions, on_finished)
