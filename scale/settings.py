"""Settings: read once at process start, typed, and passed explicitly to every entry point.

Nothing else in Scale reads the environment; tests build `Settings` directly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from scale.exceptions import ConfigError

ResourceManagerName = Literal["local", "mesos", "celery"]
RESOURCE_MANAGERS: tuple[ResourceManagerName, ...] = ("local", "mesos", "celery")


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
    # Where NFS mounts (`host:/path`) of workspaces and Strike processes are mounted.
    mount_root: Path | None = None
    # A Strike without a transfer_suffix takes a file as complete once its size and mtime
    # have not changed for this long; every Strike rescans its directory this often.
    strike_settle_seconds: float = 5.0
    strike_rescan_seconds: float = 10.0
    # `scale node` writes its heartbeat this often; the celery manager takes a node whose
    # heartbeat is older than `node_lost_seconds` for lost (docs/deployment.md).
    node_heartbeat_seconds: float = 5.0
    node_lost_seconds: float = 30.0
    # The largest request body the API reads; a larger one is refused with 413 unread.
    max_body_bytes: int = 16 * 1024 * 1024
    # How long a web request waits for a database connection when every one of the pool's is
    # in use before it is answered 503 with Retry-After: well under a client's patience.
    db_pool_timeout_seconds: float = 10.0

    @classmethod
    def embedded(cls, home: Path) -> Settings:
        """The embedded default: SQLite and a serverless broker, all under `home`."""
        home = home.resolve()
        return cls(
            home=home,
            database_url=f"sqlite:///{home / 'scale.db'}",
            broker_url=f"filesystem://{home / 'broker'}",
            work_root=home / "work",
            mount_root=home / "mounts",
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
            mount_root=Path(env["SCALE_MOUNT_ROOT"]) if env.get("SCALE_MOUNT_ROOT") else settings.mount_root,
            strike_settle_seconds=_seconds(env, "SCALE_STRIKE_SETTLE_SECONDS", settings.strike_settle_seconds),
            strike_rescan_seconds=_seconds(env, "SCALE_STRIKE_RESCAN_SECONDS", settings.strike_rescan_seconds),
            node_heartbeat_seconds=_seconds(env, "SCALE_NODE_HEARTBEAT_SECONDS", settings.node_heartbeat_seconds),
            node_lost_seconds=_seconds(env, "SCALE_NODE_LOST_SECONDS", settings.node_lost_seconds),
            max_body_bytes=_positive_int(env, "SCALE_MAX_BODY_BYTES", settings.max_body_bytes),
            db_pool_timeout_seconds=_seconds(env, "SCALE_DB_POOL_TIMEOUT_SECONDS", settings.db_pool_timeout_seconds),
        )
        if settings.resource_manager == "mesos" and not settings.mesos_master:
            raise ConfigError("SCALE_MESOS_MASTER is required when SCALE_RESOURCE_MANAGER is mesos")
        if settings.node_heartbeat_seconds >= settings.node_lost_seconds:
            raise ConfigError("SCALE_NODE_HEARTBEAT_SECONDS must be less than SCALE_NODE_LOST_SECONDS, or "
                              "every node would be taken for lost between two heartbeats")
        return settings

    @property
    def mounts(self) -> Path:
        """Where NFS mounts go: `mount_root`, else `HOME/mounts`."""
        return self.mount_root or self.home / "mounts"

    def to_env(self) -> dict[str, str]:
        """These settings as the `SCALE_*` variables that `from_env` reads back: what a system
        job (a `scale` subcommand the runner starts) needs to reach the same database and broker."""
        env = {
            "SCALE_HOME": str(self.home),
            "SCALE_DATABASE_URL": self.database_url,
            "SCALE_BROKER_URL": self.broker_url,
            "SCALE_WORK_ROOT": str(self.work_root),
            "SCALE_RESOURCE_MANAGER": self.resource_manager,
            "SCALE_READS_REQUIRE_TOKEN": "true" if self.reads_require_token else "false",
            "SCALE_STRIKE_SETTLE_SECONDS": str(self.strike_settle_seconds),
            "SCALE_STRIKE_RESCAN_SECONDS": str(self.strike_rescan_seconds),
            "SCALE_NODE_HEARTBEAT_SECONDS": str(self.node_heartbeat_seconds),
            "SCALE_NODE_LOST_SECONDS": str(self.node_lost_seconds),
            "SCALE_MAX_BODY_BYTES": str(self.max_body_bytes),
            "SCALE_DB_POOL_TIMEOUT_SECONDS": str(self.db_pool_timeout_seconds),
        }
        optional = {"SCALE_MESOS_MASTER": self.mesos_master, "SCALE_DOCKER_URL": self.docker_url,
                    "SCALE_NODE_NAME": self.node_name,
                    "SCALE_MOUNT_ROOT": str(self.mount_root) if self.mount_root else None}
        env.update({key: value for key, value in optional.items() if value})
        return env


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    text = env.get(key)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{key} must be a number of seconds, not {text!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be more than 0 seconds, not {text!r}")
    return value


def _positive_int(env: Mapping[str, str], key: str, default: int) -> int:
    text = env.get(key)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be more than 0, not {text!r}")
    return value
