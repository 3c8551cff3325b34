"""Settings: read once at process start, typed, and passed explicitly to every entry point.

Nothing else in Scale reads the environment; tests build `Settings` directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from scale.errors import ConfigError

ResourceManagerName = Literal["local", "mesos"]
RESOURCE_MANAGERS: tuple[ResourceManagerName, ...] = ("local", "mesos")


@dataclass(frozen=True)
class Settings:
    """Everything a Scale process needs to know about where it runs.

    `home` holds the embedded default: the SQLite database, the admin token and the
    embedded broker's files."""

    home: Path
    database_url: str
    broker_url: str
    # Where the node's job executions get their work directories (inputs, outputs, logs).
    work_root: Path
    resource_manager: ResourceManagerName = "local"
    mesos_master: str | None = None
    docker_url: str | None = None
    reads_require_token: bool = False
    # This machine's node name for the local resource manager (default: its hostname).
    node_name: str | None = None

    @classmethod
    def embedded(cls, home: Path) -> Settings:
        """The embedded default: SQLite and a serverless broker, all under `home`."""
        home = home.resolve()
        return cls(
            home=home,
            database_url=f"sqlite:///{home / 'scale.db'}",
            broker_url=f"filesystem://{home / 'broker'}",
            work_root=home / "work",
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, home: Path) -> Settings:
        """The embedded default under `home`, overridden by `SCALE_*` variables."""
        settings = cls.embedded(home)
        manager = env.get("SCALE_RESOURCE_MANAGER", settings.resource_manager)
        if manager not in RESOURCE_MANAGERS:
            raise ConfigError(f"SCALE_RESOURCE_MANAGER must be one of {', '.join(RESOURCE_MANAGERS)}, "
                              f"not {manager!r}")
        reads = env.get("SCALE_READS_REQUIRE_TOKEN", "false").strip().lower()
        if reads not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"SCALE_READS_REQUIRE_TOKEN must be true or false, not {reads!r}")
        settings = replace(
            settings,
            database_url=env.get("SCALE_DATABASE_URL", settings.database_url),
            broker_url=env.get("SCALE_BROKER_URL", settings.broker_url),
            resource_manager=manager,  # type: ignore[arg-type]
            mesos_master=env.get("SCALE_MESOS_MASTER") or None,
            docker_url=env.get("SCALE_DOCKER_URL") or None,
            work_root=Path(env["SCALE_WORK_ROOT"]) if env.get("SCALE_WORK_ROOT") else settings.work_root,
            reads_require_token=reads in ("true", "1", "yes"),
            node_name=env.get("SCALE_NODE_NAME") or None,
        )
        if settings.resource_manager == "mesos" and not settings.mesos_master:
            raise ConfigError("SCALE_MESOS_MASTER is required when SCALE_RESOURCE_MANAGER is mesos")
        return settings
