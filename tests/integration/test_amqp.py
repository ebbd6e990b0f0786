"""The end-to-end save (hook JSON → worker → rows) once more with RabbitMQ as the broker.

Each run gets a vhost of its own (``rabbitmqctl add_vhost``) so it never shares the ``recall``
queue with anything else; without rabbitmqctl it falls back to the default vhost.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import ConversationContext, Project, SavedDelta, Session
from contextrecall.settings import Settings
from tests.conftest import _port_open
from tests.integration.test_write_path import count, stop_then_session_end
from tests.integration.workers import WorkerProcess
from tests.support import require

RABBITMQ = ("127.0.0.1", 5672)
USER = "guest"


def rabbitmqctl(*args: str) -> bool:
    binary = shutil.which("rabbitmqctl")
    if binary is None:
        return False
    try:
        return subprocess.run([binary, *args], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def amqp_url() -> Iterator[str]:
    """An amqp:// URL on the local RabbitMQ, in a fresh vhost when one can be made."""
    require(_port_open(*RABBITMQ), f"RabbitMQ at {RABBITMQ[0]}:{RABBITMQ[1]}")
    vhost = f"recall-test-{uuid.uuid4().hex[:10]}"
    own = rabbitmqctl("add_vhost", vhost) and rabbitmqctl(
        "set_permissions", "-p", vhost, USER, ".*", ".*", ".*"
    )
    try:
        yield f"amqp://{USER}:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/{vhost if own else ''}"
    finally:
        if own:
            rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def amqp_settings(backend: Settings, amqp_url: str, tmp_path: Path) -> Settings:
    return backend.with_overrides(home=tmp_path / "home", broker_url=amqp_url, visibility_timeout=6)


def stored_for(settings: Settings, session: str) -> int:
    """Deltas stored for the agent session ``session`` (a shared vhost may carry others)."""
    ids = select(Session.id).where(Session.external_id == session)
    return count(settings, SavedDelta, SavedDelta.session_id.in_(ids))


def test_hook_json_in_rows_out_over_amqp(amqp_settings, tmp_path):
    worker = WorkerProcess(amqp_settings, tmp_path / "worker.log").start()
    try:
        stop_then_session_end(
            amqp_settings, tmp_path, lambda session: stored_for(amqp_settings, session)
        )
        with session_scope(amqp_settings) as db:
            project = db.scalars(
                select(Project).where(Project.identity == "git:github.com/acme/widget")
            ).one()
            contexts = db.scalars(
                select(ConversationContext).where(ConversationContext.project_id == project.id)
            ).all()
        assert len(contexts) == 1 and contexts[0].context_type == "session_summary"
    finally:
        worker.stop()
