from pathlib import Path

import pytest

from scale.exceptions import ConfigError
from scale.settings import Settings


def test_embedded_default_lives_under_home(tmp_path: Path):
    settings = Settings.from_env({}, home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'scale.db'}"
    assert settings.resource_manager == "local"
    assert settings.reads_require_token is False


def test_environment_overrides_the_embedded_default(tmp_path: Path):
    settings = Settings.from_env({"SCALE_DATABASE_URL": "postgresql+psycopg://db/scale",
                                  "SCALE_BROKER_URL": "redis://r:6379/0",
                                  "SCALE_READS_REQUIRE_TOKEN": "true"}, home=tmp_path)
    assert settings.database_url == "postgresql+psycopg://db/scale"
    assert settings.broker_url == "redis://r:6379/0"
    assert settings.reads_require_token is True


def test_unknown_resource_manager_names_the_variable(tmp_path: Path):
    with pytest.raises(ConfigError, match="SCALE_RESOURCE_MANAGER"):
        Settings.from_env({"SCALE_RESOURCE_MANAGER": "kubernetes"}, home=tmp_path)


def test_mesos_needs_a_master(tmp_path: Path):
    with pytest.raises(ConfigError, match="SCALE_MESOS_MASTER"):
        Settings.from_env({"SCALE_RESOURCE_MANAGER": "mesos"}, home=tmp_path)


def test_bad_boolean_names_the_variable(tmp_path: Path):
    with pytest.raises(ConfigError, match="SCALE_READS_REQUIRE_TOKEN"):
        Settings.from_env({"SCALE_READS_REQUIRE_TOKEN": "maybe"}, home=tmp_path)


def test_celery_manager_is_accepted(tmp_path: Path):
    settings = Settings.from_env({"SCALE_RESOURCE_MANAGER": "celery", "SCALE_NODE_LOST_SECONDS": "6",
                                  "SCALE_NODE_HEARTBEAT_SECONDS": "1"}, home=tmp_path)
    assert (settings.resource_manager, settings.node_lost_seconds, settings.node_heartbeat_seconds) == ("celery", 6, 1)
    assert Settings.from_env(settings.to_env(), home=tmp_path) == settings


def test_node_heartbeat_must_beat_within_the_lost_limit(tmp_path: Path):
    with pytest.raises(ConfigError, match="SCALE_NODE_HEARTBEAT_SECONDS"):
        Settings.from_env({"SCALE_NODE_LOST_SECONDS": "5"}, home=tmp_path)
