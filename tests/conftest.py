"""Shared fixtures: real services, both database backends, the shared data folder.

A test that needs a service which is absent is skipped with a visible reason on a developer's
machine, and fails under CI=true, where every service must be there.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from contextrecall.settings import Settings
from tests.support import SHARED_DATA, flush_redis, require

# Isolation from this machine's own Context Recall: no user configuration file (its path is in
# a folder of this run's own, so a test that writes one leaves the clone alone), and no worker
# started behind a test's back by the hooks it runs (tests that test those say so).
os.environ["RECALL_CONFIG"] = os.path.join(
    tempfile.mkdtemp(prefix="recall-tests-"), "no-such-config.env"
)
os.environ["RECALL_WORKER_AUTOSTART"] = "0"
# Hooks the tests run are checked for what they do: on a machine busy with parallel tests, the
# 0.9 s budget of a real hook could cut one short. The tests of the budget itself, and the
# benchmarks, run hooks with the real one.
os.environ["RECALL_HOOK_BUDGET_SECONDS"] = "8"

MARIADB_ADMIN_URL = os.environ.get("RECALL_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
# A Redis server of the machine's to use instead of a private one (see ``redis_server``).
SHARED_REDIS = os.environ.get("RECALL_TEST_REDIS_URL")
REDIS_DB = 15  # ``redis_url``'s database; modules that need others name their own


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the clone (real transcripts and LoCoMo)."""
    require(SHARED_DATA.is_dir(), f"shared data folder {SHARED_DATA}")
    return SHARED_DATA


@contextmanager
def _database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty MariaDB database ``name`` on the server of ``server_url``, dropped after."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(server_url).set(database=None)
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(scope="session")
def mariadb_server_url() -> Iterator[str]:
    """A fresh, empty MariaDB database for this test run, dropped afterwards."""
    from sqlalchemy.engine import make_url

    admin = make_url(MARIADB_ADMIN_URL)
    require(_port_open(admin.host or "127.0.0.1", admin.port or 3306), "MariaDB")
    with _database(MARIADB_ADMIN_URL, f"recall_test_{uuid.uuid4().hex[:10]}") as url:
        yield url


@pytest.fixture
def empty_mariadb_url(mariadb_server_url: str) -> Iterator[str]:
    """A MariaDB database of its own, empty (never migrated), dropped afterwards."""
    from sqlalchemy.engine import make_url

    name = f"{make_url(mariadb_server_url).database}_{uuid.uuid4().hex[:6]}"
    with _database(mariadb_server_url, name) as url:
        yield url


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _private_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    """A redis-server of this test process's own on a free port (no persistence), or None
    when none could be started."""
    for _ in range(5):  # a free port may be taken before the server binds it
        port = _free_port()
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and server.poll() is None:
            if _port_open("127.0.0.1", port):
                return server, f"redis://127.0.0.1:{port}"
            time.sleep(0.05)
        server.kill()
        server.wait()
    return None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``redis://host:port`` of the Redis server this test process uses, its databases all its
    own: a private redis-server when the binary is installed, so that test processes running
    in parallel (pytest -n) never flush each other's databases; else the one on
    127.0.0.1:6379, or ``RECALL_TEST_REDIS_URL``'s (for one test process at a time)."""
    if SHARED_REDIS:
        yield SHARED_REDIS.rsplit("/", 1)[0]
        return
    started = shutil.which("redis-server") and _private_redis(tmp_path_factory.mktemp("redis"))
    if not started:
        require(_port_open("127.0.0.1", 6379), "Redis")
        yield "redis://127.0.0.1:6379"
        return
    server, url = started
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(redis_server: str) -> str:
    """A database of this test process's Redis (``redis_server``)."""
    return f"{redis_server}/{REDIS_DB}"


def _settings_for(home: Path, database_url: str) -> Settings:
    return Settings.from_env({"RECALL_HOME": str(home), "RECALL_DATABASE_URL": database_url})


@pytest.fixture(scope="session", params=["sqlite", "mariadb"])
def migrated_backend(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Settings]:
    """Settings for a database of each supported backend, migrated to head once per run."""
    from contextrecall import migrate
    from contextrecall.db import get_engine

    home = tmp_path_factory.mktemp(f"home-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{home / 'recall.db'}"
    else:
        url = request.getfixturevalue("mariadb_server_url")
    settings = _settings_for(home, url)
    migrate.upgrade(settings)
    yield settings
    get_engine(settings).dispose()


@pytest.fixture
def backend(migrated_backend: Settings) -> Iterator[Settings]:
    """A migrated database of each backend, emptied before each test, with no recall index
    (emptying the tables moves no generation: an index left by an earlier test would count
    as current)."""
    from sqlalchemy import delete

    from contextrecall.db import get_engine
    from contextrecall.models import Base

    with get_engine(migrated_backend).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    shutil.rmtree(migrated_backend.location("index"), ignore_errors=True)
    yield migrated_backend


@pytest.fixture(params=["sqlite", "mariadb"])
def empty_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for an empty (unmigrated) database of each backend."""
    from contextrecall.db import dispose_engines

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'recall.db'}"
    else:
        url = request.getfixturevalue("empty_mariadb_url")
    yield _settings_for(tmp_path, url)
    dispose_engines()


INDEX_DB = 1  # the Redis database of the recall index in ``kept``, flushed around each test


@pytest.fixture
def kept(backend: Settings, request: pytest.FixtureRequest) -> Settings:
    """``backend`` with its recall index: a local file on SQLite, Redis beside MariaDB."""
    for name in ("key", "broker", "spool", "offsets"):
        shutil.rmtree(backend.location(name), ignore_errors=True)
    if backend.is_embedded_database:
        return backend
    url = f"{request.getfixturevalue('redis_server')}/{INDEX_DB}"
    flush_redis(url)
    request.addfinalizer(lambda: flush_redis(url))
    return Settings.from_env(
        {
            "RECALL_HOME": str(backend.home),
            "RECALL_DATABASE_URL": backend.database_url,
            "RECALL_CACHE_URL": url,
        }
    )
