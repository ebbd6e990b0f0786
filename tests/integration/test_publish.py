"""The hook's publisher against real brokers and a real Celery worker.

A worker process runs ``tests/integration/publish_probe_tasks.py``; its ``recall.probe`` task
appends how it was called to a file, so each test can compare what was sent with what ran.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contextrecall.broker.publish import PublishError, publish_task
from contextrecall.settings import Settings, get_settings
from contextrecall.worker.config import celery_config

REPO = Path(__file__).resolve().parents[2]
PROBE_APP = "tests.integration.publish_probe_tasks:app"
PROBE_DB = 14  # a Redis database of its own: the tests flush it
WAIT = 15.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


class ProbeWorker:
    """A real ``celery worker`` process running the probe app; always killed on stop()."""

    def __init__(self, broker_url: str, home: Path) -> None:
        self.broker_url, self.home = broker_url, home
        self.log = home / "worker.log"
        env = {
            **os.environ,
            "RECALL_HOME": str(home),
            "RECALL_BROKER_URL": broker_url,
            "PYTHONPATH": str(REPO),
        }
        command = [
            sys.executable, "-m", "celery", "-A", PROBE_APP, "worker",
            "--pool=solo", "-Q", "recall", "--concurrency", "1",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def records(self, path: Path, count: int) -> list[dict]:
        """Wait until ``path`` holds ``count`` records and return them."""
        try:
            wait_for(lambda: len(read_records(path)) >= count, f"{count} probe record(s)")
        except AssertionError:
            alive = "running" if self.process.poll() is None else f"exit {self.process.returncode}"
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"worker ({alive}) did not run the tasks; log:\n{tail}") from None
        return read_records(path)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="module")
def probe_redis_url(redis_url: str) -> Iterator[str]:
    """The test Redis server, database PROBE_DB, emptied before and after the module."""
    scheme, _, rest = redis_url.partition("://")
    url = f"{scheme}://{rest.split('?')[0].split('/')[0]}/{PROBE_DB}"
    flush(url)
    yield url
    flush(url)


@pytest.fixture(scope="module")
def redis_worker(probe_redis_url: str, tmp_path_factory) -> Iterator[ProbeWorker]:
    worker = ProbeWorker(probe_redis_url, tmp_path_factory.mktemp("redis-worker"))
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / "record.jsonl"


def sender_app(broker_url: str, home: Path):
    """A Celery app configured like the project's, for sending the reference messages."""
    from celery import Celery

    app = Celery("publish-test-sender", set_as_current=False)
    settings = Settings.from_env({"RECALL_BROKER_URL": broker_url, "RECALL_HOME": str(home)})
    app.conf.update(celery_config(settings))
    return app


# --- Redis fast path against a real worker ---------------------------------------------------


@pytest.mark.redis
def test_worker_runs_published_task_with_its_id_args_and_argsrepr(
    redis_worker: ProbeWorker, record: Path
) -> None:
    task_id = str(uuid.uuid4())
    args = [1, "two", {"three": [3.0, None, True]}, "ünïcode ✓"]
    kwargs = {"record": str(record), "nested": {"a": [1, 2]}, "empty": []}

    returned = publish_task(
        redis_worker.broker_url, "recall.probe", args, kwargs, task_id=task_id,
        argsrepr="('<transcript>',)", kwargsrepr="{'record': '<file>'}",
    )  # fmt: skip

    assert returned == task_id
    (ran,) = redis_worker.records(record, 1)
    assert ran["args"] == args
    assert ran["kwargs"] == kwargs
    assert ran["request"]["id"] == task_id
    assert ran["request"]["argsrepr"] == "('<transcript>',)"
    assert ran["request"]["kwargsrepr"] == "{'record': '<file>'}"
    assert ran["request"]["delivery_info"]["routing_key"] == "recall"


@pytest.mark.redis
def test_published_task_needs_no_kombu_binding_set(redis_worker: ProbeWorker, record: Path) -> None:
    """The default exchange ("") routes by queue name, so kombu never reads the binding set."""
    import redis

    client = redis.Redis.from_url(redis_worker.broker_url)
    client.delete("_kombu.binding.recall", "_kombu.binding_permanent.recall")
    client.close()
    task_id = publish_task(redis_worker.broker_url, "recall.probe", [], {"record": str(record)})

    (ran,) = redis_worker.records(record, 1)
    assert ran["request"]["id"] == task_id


@pytest.mark.redis
def test_two_hundred_published_tasks_each_run_exactly_once(
    redis_worker: ProbeWorker, record: Path
) -> None:
    import redis

    ids = [publish_task(redis_worker.broker_url, "recall.probe", [n], {"record": str(record)})
           for n in range(200)]  # fmt: skip

    redis_worker.records(record, 200)
    client = redis.Redis.from_url(redis_worker.broker_url)
    # acks_late: a message is acknowledged (dropped from "unacked") only after its task ran.
    wait_for(lambda: client.hlen("unacked") == 0 and client.llen("recall") == 0, "acks")
    client.close()
    ran = read_records(record)
    assert len(ran) == 200
    assert Counter(r["request"]["id"] for r in ran) == Counter(ids)
    assert sorted(r["args"][0] for r in ran) == list(range(200))


@pytest.mark.redis
def test_published_task_and_send_task_give_the_worker_the_same_request(
    redis_worker: ProbeWorker, record: Path, tmp_path: Path
) -> None:
    args, kwargs = ["same", 2, [3]], {"record": str(record), "flag": False}
    app = sender_app(redis_worker.broker_url, tmp_path)
    sent_id = app.send_task("recall.probe", args=args, kwargs=kwargs, queue="recall").id
    app.close()
    published_id = publish_task(redis_worker.broker_url, "recall.probe", args, kwargs)

    by_id = {r["request"]["id"]: r for r in redis_worker.records(record, 2)}
    sent, published = by_id[sent_id], by_id[published_id]
    assert published["args"] == sent["args"] == args
    assert published["kwargs"] == sent["kwargs"] == kwargs
    # Per message or per sending process by nature; everything else must be equal.
    varying = {"id", "root_id", "correlation_id", "origin", "reply_to"}
    assert published["request"]["reply_to"] == ""  # no result backend: no reply queue
    assert published["request"]["root_id"] == published["request"]["correlation_id"]
    assert published["request"]["origin"].startswith("gen")
    strip = lambda request: {k: v for k, v in request.items() if k not in varying}  # noqa: E731
    assert strip(published["request"]) == strip(sent["request"])


@pytest.mark.redis
def test_envelope_is_the_one_send_task_stores(probe_redis_url: str, tmp_path: Path) -> None:
    """Compare the stored JSON itself, key order included (a queue no worker consumes)."""
    import redis

    queue = "publish-envelope-check"
    args, kwargs = [1, "a", {"b": None}], {"c": [1.5, True]}
    app = sender_app(probe_redis_url, tmp_path)
    app.send_task("recall.probe", args=args, kwargs=kwargs, task_id="same-id", queue=queue)
    app.close()
    publish_task(probe_redis_url, "recall.probe", args, kwargs, task_id="same-id", queue=queue)

    client = redis.Redis.from_url(probe_redis_url)
    ours, celerys = (json.loads(raw) for raw in client.lrange(queue, 0, -1))
    client.delete(queue)
    client.close()
    for message in (ours, celerys):
        for field in ("delivery_tag", "reply_to"):
            message["properties"].pop(field)
        message["headers"].pop("origin")
    assert ours == celerys
    assert [list(m) for m in (ours, ours["headers"], ours["properties"])] == [
        list(m) for m in (celerys, celerys["headers"], celerys["properties"])
    ]


# --- Redis fast path: failures are PublishError, fast ----------------------------------------


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize("path", ["/0", "/3"])
def test_silent_server_fails_within_the_timeout(silent_server: int, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(PublishError):
        publish_task(f"redis://127.0.0.1:{silent_server}{path}", "recall.probe", [], {},
                     timeout=0.3)  # fmt: skip
    assert time.monotonic() - started < 1.0


def test_refused_connection_fails_fast() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again at the end of this block
    started = time.monotonic()
    with pytest.raises(PublishError):
        publish_task(f"redis://127.0.0.1:{port}/0", "recall.probe", [], {}, timeout=0.3)
    assert time.monotonic() - started < 0.3


def test_unresolvable_host_fails_within_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(PublishError):
        publish_task("redis://no-such-host.invalid:6379/0", "recall.probe", [], {}, timeout=0.3)
    assert time.monotonic() - started < 1.0


# --- AUTH and TLS against a private redis-server ---------------------------------------------


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory) -> Iterator[dict]:
    """A redis-server requiring a password, on a plain port and a TLS port (self-signed)."""
    if not (shutil.which("redis-server") and shutil.which("openssl")):
        pytest.skip("redis-server and openssl binaries not installed (optional AUTH/TLS checks)")
    folder = tmp_path_factory.mktemp("private-redis")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", "key.pem", "-out", "cert.pem", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        cwd=folder, check=True, capture_output=True,
    )  # fmt: skip
    ports = []
    for _ in range(2):
        with socket.create_server(("127.0.0.1", 0)) as free:
            ports.append(free.getsockname()[1])
    port, tls_port = ports
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--tls-port", str(tls_port),
         "--tls-cert-file", "cert.pem", "--tls-key-file", "key.pem", "--tls-auth-clients", "no",
         "--requirepass", "s3cret:/@x", "--save", "", "--appendonly", "no"],
        cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port, password="s3cret:/@x", db=2)
        wait_for(lambda: _pings(client), "the private redis-server", timeout=5)
        yield {"port": port, "tls_port": tls_port, "ca": folder / "cert.pem", "client": client}
        client.close()
    finally:
        server.kill()
        server.wait(timeout=5)


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def test_password_and_database_from_the_url_are_used(private_redis: dict) -> None:
    client, port = private_redis["client"], private_redis["port"]
    url = f"redis://:s3cret%3A%2F%40x@127.0.0.1:{port}/2"  # percent-encoded, as in any URL
    task_id = publish_task(url, "recall.probe", [1], {}, queue="auth-check")
    user_url = f"redis://default:s3cret%3A%2F%40x@localhost:{port}/2"  # Redis 6 ACL form
    publish_task(user_url, "recall.probe", [2], {}, queue="auth-check")

    stored = [json.loads(raw) for raw in client.lrange("auth-check", 0, -1)]
    assert [m["headers"]["id"] for m in stored][-1] == task_id
    assert len(stored) == 2


def test_wrong_password_is_a_publish_error(private_redis: dict) -> None:
    url = f"redis://:wrong@127.0.0.1:{private_redis['port']}/2"
    with pytest.raises(PublishError, match="WRONGPASS"):
        publish_task(url, "recall.probe", [1], {}, queue="auth-check")


def test_rediss_verifies_the_server_certificate(private_redis: dict) -> None:
    client, tls_port, ca = private_redis["client"], private_redis["tls_port"], private_redis["ca"]
    base = f"rediss://:s3cret%3A%2F%40x@localhost:{tls_port}/2"
    task_id = publish_task(f"{base}?ssl_cert_reqs=required&ssl_ca_certs={ca}", "recall.probe",
                           ["tls"], {}, queue="tls-check")  # fmt: skip
    publish_task(f"{base}?ssl_cert_reqs=none", "recall.probe", ["tls"], {}, queue="tls-check")
    with pytest.raises(PublishError, match="CERTIFICATE_VERIFY_FAILED"):
        publish_task(base, "recall.probe", ["tls"], {}, queue="tls-check")

    stored = [json.loads(raw) for raw in client.lrange("tls-check", 0, -1)]
    assert len(stored) == 2
    assert stored[-1]["headers"]["id"] == task_id


# --- Other brokers: Celery publishes ---------------------------------------------------------


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keep the environment-built default app (contextrecall.worker.app) out of the real home."""
    monkeypatch.setenv("RECALL_HOME", str(tmp_path / "env-home"))
    monkeypatch.delenv("RECALL_BROKER_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_filesystem_broker_goes_through_celery_to_a_worker(isolated_home: Path) -> None:
    home = isolated_home / "home"
    settings = Settings.from_env({"RECALL_HOME": str(home), "RECALL_BROKER_URL": "filesystem://"})
    celery_config(settings)  # creates the broker folders the worker polls
    worker = ProbeWorker("filesystem://", home)
    try:
        record = isolated_home / "record.jsonl"
        task_id = publish_task("filesystem://", "recall.probe", ["fs", 1], {"record": str(record)},
                               argsrepr="('fs', 1)", settings=settings)  # fmt: skip
        (ran,) = worker.records(record, 1)
    finally:
        worker.stop()
    assert ran["args"] == ["fs", 1]
    assert ran["kwargs"] == {"record": str(record)}
    assert ran["request"]["id"] == task_id
    assert ran["request"]["argsrepr"] == "('fs', 1)"


def test_unreachable_celery_broker_is_a_publish_error(isolated_home: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(PublishError):
        publish_task(f"amqp://guest:guest@127.0.0.1:{port}//", "recall.probe", [], {})
    assert time.monotonic() - started < 5  # one attempt, no retry loop


# --- Import cost ------------------------------------------------------------------------------


def test_publisher_import_loads_no_broker_library() -> None:
    """The hook imports this module; Celery, kombu, redis-py or SQLAlchemy would blow its budget."""
    code = "import sys, contextrecall.broker.publish; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    roots = {name.split(".")[0] for name in loaded}
    assert not roots & {"celery", "kombu", "redis", "sqlalchemy"}
    # Each costs milliseconds of enum/regex/dataclass set-up; the publisher avoids them on purpose.
    avoided = {
        "socket",
        "uuid",
        "urllib.parse",
        "typing",
        "ssl",
        "pathlib",
        "contextrecall.settings",
    }
    assert not loaded & avoided
