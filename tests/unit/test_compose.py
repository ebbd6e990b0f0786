"""docker-compose.yml describes the whole stack soundly (no Docker engine runs it here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from contextrecall.cli import cli
from contextrecall.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"mariadb", "redis", "migrate", "worker", "beat", "flower"}
RECALL_SERVICES = {"migrate", "worker", "beat", "flower"}
SECRETISH = re.compile(r"PASSWORD|SECRET|KEY|AUTH|TOKEN", re.I)
VARIABLE = re.compile(r"\$\{[A-Z_]+(:?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_stack_has_every_service(compose):
    assert set(compose["services"]) == EXPECTED


def test_servers_have_health_checks(compose):
    for name in ("mariadb", "redis", "worker", "flower"):
        check = compose["services"][name]["healthcheck"]
        assert check["test"] and check["interval"], name


def test_dependencies_wait_on_conditions(compose):
    services = compose["services"]
    assert services["migrate"]["depends_on"]["mariadb"]["condition"] == "service_healthy"
    for name in ("worker", "beat"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["redis"]["condition"] == "service_healthy"
    for name, service in services.items():
        for dep in (service.get("depends_on") or {}).values():
            assert dep["condition"].startswith("service_"), name


def test_named_volumes_are_declared_and_used(compose):
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert used <= declared
    assert {"mariadb-data", "redis-data"} <= used


def _environment_values(compose):
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            yield name, key, str(value)
    for value in compose["services"]["redis"]["command"]:
        yield "redis", "command", str(value)


def test_no_credentials_are_hard_coded(compose):
    for service, key, value in _environment_values(compose):
        if SECRETISH.search(key):
            assert VARIABLE.fullmatch(value), f"{service}.{key} must come from the environment"
        if "://" in value and "@" in value:
            userinfo = value.split("://", 1)[1].split("@", 1)[0]
            assert VARIABLE.search(userinfo), f"{service}.{key} embeds credentials"


@pytest.mark.parametrize("service", sorted(RECALL_SERVICES))
def test_each_service_runs_a_real_recall_command(compose, service, monkeypatch):
    spec = compose["services"][service]
    assert spec["build"] == "."
    command = spec["command"]
    monkeypatch.setenv("RECALL_FLOWER_BASIC_AUTH", "u:p")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, [*command, "--help"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output


def test_unknown_command_would_be_caught():
    """The check above can fail: a misspelt option or command is refused."""
    assert CliRunner().invoke(cli, ["workers", "--help"]).exit_code != 0
    assert CliRunner().invoke(cli, ["worker", "--bogus", "--help"]).exit_code != 0


def test_image_entrypoint_is_recall():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["recall"]' in dockerfile
    assert "COPY migrations" in dockerfile
