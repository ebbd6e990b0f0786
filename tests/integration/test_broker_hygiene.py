"""Workers take only what they trust from the broker: JSON by default, signed messages when
message signing is configured. A real worker on Redis database 6 and a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery import Celery

from contextrecall.client.outbox import deliver
from contextrecall.models import FailedJob, SavedDelta
from contextrecall.settings import Settings
from tests.integration.test_write_path import count, make_job
from tests.integration.workers import WorkerProcess, settings_env, wait_until
from tests.signing import make_signing_identity

BROKER_DB = 6
SAVE_TASK = "recall.save_delta"
TEXT = b'{"type":"user","message":{"content":"please keep this"}}\n'

# Sends one save job through Celery itself, so the auth serializer signs it when
# RECALL_SIGNING_* are set (the kombu registry is process-wide: keep it out of pytest's).
SEND_WITH_CELERY = """
import json, sys
from contextrecall.worker.app import app
job = json.load(sys.stdin)
app.send_task("recall.save_delta", args=[job], task_id=job["job_id"], queue=sys.argv[1])
"""


class UnpicklingRunsCode:
    """Unpickling this calls ``os.mkdir(path)``: the proof that a pickle was deserialized."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


@pytest.fixture
def hygiene_settings(backend: Settings, redis_url: str, tmp_path: Path) -> Settings:
    """The backend with a fresh home and an empty broker on Redis database 6."""
    import redis

    broker = f"{redis_url.rsplit('/', 1)[0]}/{BROKER_DB}"
    redis.Redis.from_url(broker).flushdb()
    return backend.with_overrides(home=tmp_path / "home", broker_url=broker, visibility_timeout=10)


def plain_celery(settings: Settings) -> Celery:
    """A producer-only Celery app on the broker, configured by hand (not the project's)."""
    app = Celery("hygiene-probe", set_as_current=False)
    app.conf.update(broker_url=settings.broker_url, task_default_queue="recall")
    return app


def send_with_celery(settings: Settings, job: dict, queue: str = "recall") -> None:
    subprocess.run(
        [sys.executable, "-c", SEND_WITH_CELERY, queue],
        input=json.dumps(job),
        env=settings_env(settings),
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def stored_sessions(settings: Settings) -> int:
    return count(settings, SavedDelta)


def tamper_and_forward(settings: Settings, held: str, old: bytes, new: bytes) -> None:
    """Move the message waiting on queue ``held`` to the workers' queue with ``old`` replaced
    by ``new`` inside its signed body (kombu's Redis envelope: base64 of the auth payload,
    itself base64 of signer, signature, content type, encoding and body)."""
    import base64

    import redis

    client = redis.Redis.from_url(settings.broker_url)
    envelope = json.loads(client.rpop(held))
    fields = base64.b64decode(base64.b64decode(envelope["body"]))
    assert old in fields
    payload = base64.b64encode(fields.replace(old, new))
    envelope["body"] = base64.b64encode(payload).decode()
    envelope["properties"]["delivery_info"]["routing_key"] = "recall"
    client.lpush("recall", json.dumps(envelope))


def test_pickled_message_is_refused_and_the_worker_keeps_serving(
    hygiene_settings: Settings, tmp_path: Path
) -> None:
    worker = WorkerProcess(hygiene_settings, tmp_path / "worker.log").start()
    try:
        marker = tmp_path / "unpickled"
        job = {**make_job("pickled", TEXT), "x": UnpicklingRunsCode(marker)}
        with plain_celery(hygiene_settings) as app:
            app.send_task(SAVE_TASK, args=[job], queue="recall", serializer="pickle")
        deliver(hygiene_settings, make_job("valid", TEXT))  # the hook's own path, JSON

        wait_until(lambda: stored_sessions(hygiene_settings) == 1, what="valid job stored")
        wait_until(
            lambda: "Refusing to deserialize untrusted content of type pickle" in worker.output(),
            timeout=10,
            what="refusal logged",
        )
        assert not marker.exists(), "the worker unpickled the message"
        assert stored_sessions(hygiene_settings) == 1
        assert count(hygiene_settings, FailedJob) == 0
        assert worker.process is not None and worker.process.poll() is None
    finally:
        worker.stop()


def test_signing_accepts_signed_jobs_and_refuses_unsigned_or_foreign_ones(
    hygiene_settings: Settings, tmp_path: Path
) -> None:
    key, cert = make_signing_identity(tmp_path / "recall", "recall")
    _, other_cert = make_signing_identity(tmp_path / "other", "other")
    trusted = tmp_path / "trusted"  # certificates only: every file in it is loaded
    trusted.mkdir()
    for trusted_cert in (cert, other_cert):  # a store may hold several certificates
        (trusted / trusted_cert.name).write_bytes(trusted_cert.read_bytes())
    intruder_key, intruder_cert = make_signing_identity(tmp_path / "intruder", "intruder")
    signed = hygiene_settings.with_overrides(
        signing_key=str(key), signing_cert=str(cert), signing_certs=str(trusted)
    )
    # A sender with its own self-signed identity, which the workers do not trust.
    foreign = signed.with_overrides(
        signing_key=str(intruder_key),
        signing_cert=str(intruder_cert),
        signing_certs=str(intruder_cert),
    )

    worker = WorkerProcess(signed, tmp_path / "worker.log").start()
    try:
        deliver(hygiene_settings, make_job("unsigned-json", TEXT))  # plain JSON, no signature
        send_with_celery(foreign, make_job("foreign", TEXT))
        send_with_celery(signed, make_job("tampered", TEXT), queue="held")
        tamper_and_forward(signed, "held", b'"tampered"', b'"tampereD"')
        send_with_celery(signed, make_job("signed", TEXT))

        wait_until(lambda: stored_sessions(signed) == 1, what="signed job stored")
        refusals = (
            "Refusing to deserialize untrusted content of type json",  # unsigned
            "Unknown certificate",  # signed by a key the workers do not trust
            "Bad signature",  # signed by a trusted key, then altered (named in the traceback)
        )
        wait_until(
            lambda: all(refusal in worker.output() for refusal in refusals),
            timeout=10,
            what="three refusals logged",
        )
        send_with_celery(signed, make_job("signed-again", TEXT))
        wait_until(lambda: stored_sessions(signed) == 2, what="worker still serving")
        assert count(signed, FailedJob) == 0
    finally:
        worker.stop()
