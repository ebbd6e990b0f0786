"""Publish Celery tasks from short-lived processes, with a stdlib-only fast path for Redis.

``recall hook`` runs inside the agent's loop and must finish in tens of milliseconds; importing
Celery or redis-py alone costs more than that. For ``redis://`` and ``rediss://`` brokers this
module writes the message itself: one LPUSH of the envelope kombu's Redis transport stores for a
Celery protocol 2 message (``celery.app.amqp.AMQP.as_task_v2`` -> ``kombu.Producer.publish`` ->
``kombu.transport.virtual.Channel.basic_publish`` -> ``kombu.transport.redis.Channel._put``), so a
stock Celery worker runs it exactly as if ``app.send_task`` had sent it. (Only the monitoring
event ``task-sent`` is not emitted: Flower first sees such a task when a worker receives it.)
Other brokers go through Celery itself.

Import cost is the point of this module: it loads only modules that are built in or that the
hook loads anyway (``json``). ``socket``, ``uuid``, ``base64`` and ``urllib.parse`` each cost a
few milliseconds of enum and regex set-up, so the fast path uses ``_socket``, ``os.urandom`` and
``binascii`` instead.
"""

from __future__ import annotations

import _socket
import _thread
import binascii
import json
import os
import time

from contextrecall.ids import random_uuid

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from contextrecall.settings import Settings

REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_PORT = 6379
# celery.app.amqp.AMQP.argsrepr_maxsize / kwargsrepr_maxsize
REPR_MAXSIZE = 1024


class PublishError(Exception):
    """The broker did not take the task message: unreachable, refused, or too slow."""


def publish_task(
    broker_url: str,
    task_name: str,
    args: list,
    kwargs: dict,
    *,
    task_id: str | None = None,
    queue: str = "recall",
    argsrepr: str | None = None,
    kwargsrepr: str | None = None,
    timeout: float = 0.5,
    settings: Settings | None = None,
) -> str:
    """Send ``task_name(*args, **kwargs)`` to ``queue`` and return the task id.

    On Redis the whole exchange (resolve, connect, send, reply) finishes or raises PublishError
    within ``timeout`` seconds. Other brokers publish through ``create_app(settings)`` (default:
    the environment's settings with ``broker_url``), without retries. ``argsrepr`` and
    ``kwargsrepr`` are what logs and Flower show; pass redacted ones for sensitive arguments.
    """
    task_id = task_id or random_uuid()
    # Signed messages need Celery's auth serializer: the fast path writes plain JSON only.
    if not broker_url.startswith(REDIS_SCHEMES) or (
        settings is not None and settings.signing_enabled
    ):
        _publish_with_celery(
            broker_url,
            task_name,
            args,
            kwargs,
            task_id,
            queue,
            argsrepr,
            kwargsrepr,
            timeout,
            settings,
        )
        return task_id
    message = task_envelope(
        task_name,
        args,
        kwargs,
        task_id=task_id,
        queue=queue,
        argsrepr=argsrepr,
        kwargsrepr=kwargsrepr,
    )
    # The message has priority 0, which kombu keeps under the plain queue name (_q_for_pri);
    # publishing to the default exchange ("") routes by queue name, so no binding set is read.
    RedisAddress.parse(broker_url).lpush(queue, json.dumps(message).encode(), timeout)
    return task_id


def task_envelope(
    task_name: str,
    args: list,
    kwargs: dict,
    *,
    task_id: str,
    queue: str,
    argsrepr: str | None = None,
    kwargsrepr: str | None = None,
) -> dict:
    """The JSON object kombu's Redis transport stores for ``app.send_task(..., queue=queue)``.

    Keys and values follow celery 5.x ``as_task_v2`` (headers, body) and kombu 5.x
    ``Channel.prepare_message`` / ``_inplace_augment_message`` (envelope), in the same order.
    ``reply_to`` is empty: results are ignored, so no reply queue is named.
    """
    body = json.dumps(
        [args, kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}]
    )
    origin = f"gen{os.getpid()}@{_socket.gethostname()}"  # celery.utils.nodenames.anon_nodename
    return {
        "body": binascii.b2a_base64(body.encode(), newline=False).decode("ascii"),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task_name,
            "id": task_id,
            "shadow": None,
            "eta": None,
            "expires": None,
            "group": None,
            "group_index": None,
            "retries": 0,
            "timelimit": [None, None],
            "root_id": task_id,
            "parent_id": None,
            "argsrepr": _clip(repr(args)) if argsrepr is None else argsrepr,
            "kwargsrepr": _clip(repr(kwargs)) if kwargsrepr is None else kwargsrepr,
            "origin": origin,
            "ignore_result": None,
            "replaced_task_nesting": 0,
            "stamped_headers": None,
            "stamps": {},
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": "",
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": random_uuid(),
        },
    }


class RedisAddress:
    """A Redis broker named by ``redis[s]://[[user]:password@]host[:port][/db][?ssl_options]``."""

    def __init__(
        self, host: str, port: int, db: int, username: str, password: str, tls_query: str | None
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.tls_query = tls_query  # None for plain TCP, else the URL's query string

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        scheme, _, rest = url.partition("://")
        rest, _, query = rest.partition("?")
        netloc, _, path = rest.partition("/")
        userinfo, _, hostport = netloc.rpartition("@")
        if hostport.startswith("["):  # [IPv6]:port
            host, _, port = hostport[1:].partition("]")
            port = port.removeprefix(":")
        else:
            host, _, port = hostport.partition(":")
        username, _, password = userinfo.partition(":")
        if "%" in userinfo:
            from urllib.parse import unquote

            username, password = unquote(username), unquote(password)
        try:
            return cls(
                host=host or "localhost",
                port=int(port or REDIS_PORT),
                db=int(path.strip("/") or 0),
                username=username,
                password=password,
                tls_query=query if scheme == "rediss" else None,
            )
        except ValueError:
            raise PublishError(
                f"cannot read port or database number in {cls._redact(url)}"
            ) from None

    def lpush(self, key: str, value: bytes, timeout: float) -> None:
        """LPUSH ``value`` onto ``key``, all within ``timeout`` seconds, or raise PublishError."""
        (reply,) = self.call([resp_command("LPUSH", key, value)], timeout)
        _expect(reply, b":", "LPUSH")

    def call(self, commands: list[bytes], timeout: float) -> list[bytes]:
        """Run ``commands`` (each with a one-line reply) within ``timeout``; their replies."""
        return self._session(lambda sock, deadline: _round_trip(sock, commands, deadline), timeout)

    def mget(self, keys: list[str], timeout: float) -> list[bytes | None]:
        """MGET ``keys`` within ``timeout`` seconds (the hook's cache read), or PublishError."""

        def read(sock, deadline: float) -> list[bytes | None]:
            sock.sendall(resp_command("MGET", *keys))
            return _read_array(sock, deadline)

        return self._session(read, timeout)

    def _session(self, work, timeout: float):  # type: ignore[no-untyped-def]
        """Connect, authenticate and select the database, run ``work``, close; all within
        ``timeout`` seconds, any failure raised as PublishError."""
        deadline = time.monotonic() + timeout
        try:
            sock = self._connect(deadline)
            try:
                # AUTH and SELECT go first, alone: pipelined behind a failed SELECT, the next
                # command would land in database 0.
                handshake = []
                if self.password:
                    credentials = [self.username] if self.username else []
                    handshake.append(resp_command("AUTH", *credentials, self.password))
                if self.db:
                    handshake.append(resp_command("SELECT", str(self.db)))
                for reply in _round_trip(sock, handshake, deadline):
                    _expect(reply, b"+", "AUTH/SELECT")
                return work(sock, deadline)
            finally:
                sock.close()
        except OSError as exc:  # refused, reset, TLS failure, timeout, unknown host
            raise PublishError(f"Redis at {self.host}:{self.port}: {exc!r}") from exc

    def _connect(self, deadline: float):
        last_error: OSError = OSError("no address")
        for family, kind, proto, _, address in _resolve(self.host, self.port, deadline):
            sock = _socket.socket(family, kind, proto)
            sock.settimeout(_remaining(deadline))
            try:
                sock.connect(address)
            except OSError as exc:  # e.g. ::1 refused, 127.0.0.1 next
                sock.close()
                last_error = exc
                continue
            return sock if self.tls_query is None else self._wrap_tls(sock, deadline)
        raise last_error

    def _wrap_tls(self, raw, deadline: float):
        """TLS over the connected socket, with redis-py's ``ssl_*`` URL options."""
        import socket
        import ssl
        from urllib.parse import parse_qsl

        options = dict(parse_qsl(self.tls_query or ""))
        context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
        if options.get("ssl_certfile"):
            context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
        cert_reqs = options.get("ssl_cert_reqs", "required").lower().removeprefix("cert_")
        if cert_reqs in ("none", "optional"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE if cert_reqs == "none" else ssl.CERT_OPTIONAL
        sock = socket.socket(fileno=raw.detach())
        sock.settimeout(_remaining(deadline))
        return context.wrap_socket(sock, server_hostname=self.host)

    @staticmethod
    def _redact(url: str) -> str:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


def _resolve(host: str, port: int, deadline: float) -> list:
    """getaddrinfo bounded by the deadline (the system resolver has no timeout of its own).

    An IP address skips the resolver, whose first call costs a few milliseconds.
    """
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            _socket.inet_pton(family, host)
        except OSError:
            continue
        return [(family, _socket.SOCK_STREAM, 0, "", (host, port))]
    found: list = []
    done = _thread.allocate_lock()
    done.acquire()

    def lookup() -> None:
        try:
            found.append(_socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM))
        except OSError as exc:
            found.append(exc)
        finally:
            done.release()

    _thread.start_new_thread(lookup, ())
    if not done.acquire(timeout=_remaining(deadline)):
        raise PublishError(f"Redis at {host}:{port}: name lookup timed out")
    if isinstance(found[0], OSError):
        raise found[0]
    return found[0]


def resp_command(*parts: str | bytes) -> bytes:
    """One Redis command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _round_trip(sock, commands: list[bytes], deadline: float) -> list[bytes]:
    """Send ``commands`` at once and return their replies, one line each (no bulk replies)."""
    if not commands:
        return []
    sock.settimeout(_remaining(deadline))
    sock.sendall(b"".join(commands))
    received = b""
    while received.count(b"\r\n") < len(commands):
        sock.settimeout(_remaining(deadline))
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionResetError("Redis closed the connection")
        received += chunk
    return received.split(b"\r\n")[: len(commands)]


def _read_array(sock, deadline: float) -> list[bytes | None]:
    """One RESP array of bulk strings (an MGET reply)."""
    buffer = b""

    def fill(needed: int) -> None:
        nonlocal buffer
        while len(buffer) < needed:
            sock.settimeout(_remaining(deadline))
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("Redis closed the connection")
            buffer += chunk

    def line() -> bytes:
        nonlocal buffer
        while b"\r\n" not in buffer:
            fill(len(buffer) + 1)
        head, _, buffer = buffer.partition(b"\r\n")
        return head

    header = line()
    _expect(header, b"*", "MGET")
    values: list[bytes | None] = []
    for _ in range(int(header[1:])):
        size = int(line()[1:])
        if size < 0:
            values.append(None)
            continue
        fill(size + 2)
        values.append(buffer[:size])
        buffer = buffer[size + 2 :]
    return values


def _expect(reply: bytes, prefix: bytes, what: str) -> None:
    if not reply.startswith(prefix):
        raise PublishError(f"Redis refused {what}: {reply.decode(errors='replace')}")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("publish timed out")
    return left


def _clip(text: str) -> str:
    return text if len(text) <= REPR_MAXSIZE else text[: REPR_MAXSIZE - 3] + "..."


def _publish_with_celery(
    broker_url: str,
    task_name: str,
    args: list,
    kwargs: dict,
    task_id: str,
    queue: str,
    argsrepr: str | None,
    kwargsrepr: str | None,
    timeout: float,
    settings: Settings | None,
) -> None:
    """Publish through Celery (AMQP, the filesystem transport, ...): one try, no retries."""
    try:
        from contextrecall.settings import get_settings
        from contextrecall.worker.app import create_app

        app = create_app((settings or get_settings()).with_overrides(broker_url=broker_url))
        connection = app.connection_for_write(
            connect_timeout=timeout, transport_options={"max_retries": 0}
        )
        with connection:
            app.send_task(
                task_name,
                args=args,
                kwargs=kwargs,
                task_id=task_id,
                queue=queue,
                argsrepr=argsrepr,
                kwargsrepr=kwargsrepr,
                connection=connection,
                retry=False,
            )
    except Exception as exc:
        raise PublishError(f"Celery could not publish {task_name}: {exc!r}") from exc
