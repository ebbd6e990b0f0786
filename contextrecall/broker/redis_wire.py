"""A tiny Redis client on the standard library: RESP commands over one short-lived socket.

The hook publishes jobs and reads cached context through it, because importing redis-py (or
even ``socket``, ``uuid`` and ``urllib.parse``, each a few milliseconds of enum and regex
set-up) would cost the agent more than the whole exchange. Every call connects, authenticates,
selects the database, runs its commands and closes, all within one deadline.
"""

from __future__ import annotations

import _socket
import _thread
import time

REDIS_SCHEMES = ("redis://", "rediss://")
REDIS_PORT = 6379


class RedisWireError(Exception):
    """Redis could not be reached, refused a command, or did not answer in time."""


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
            raise RedisWireError(
                f"cannot read port or database number in {cls._redact(url)}"
            ) from None

    def lpush(self, key: str, value: bytes, timeout: float) -> None:
        """LPUSH ``value`` onto ``key``, all within ``timeout`` seconds, or raise RedisWireError."""
        (reply,) = self.call([resp_command("LPUSH", key, value)], timeout)
        _expect(reply, b":", "LPUSH")

    def call(self, commands: list[bytes], timeout: float) -> list[bytes]:
        """Run ``commands`` (each with a one-line reply) within ``timeout``; their replies."""
        return self._session(lambda sock, deadline: _round_trip(sock, commands, deadline), timeout)

    def mget(self, keys: list[str], timeout: float) -> list[bytes | None]:
        """MGET ``keys`` within ``timeout`` seconds (the hook's cache read), or RedisWireError."""

        def read(sock, deadline: float) -> list[bytes | None]:
            sock.sendall(resp_command("MGET", *keys))
            return _read_array(sock, deadline)

        return self._session(read, timeout)

    def time(self, timeout: float) -> float:
        """The server's clock (TIME), in seconds since the epoch."""

        def read(sock, deadline: float) -> list[bytes | None]:
            sock.sendall(resp_command("TIME"))
            return _read_array(sock, deadline)

        seconds, micros = self._session(read, timeout)
        if seconds is None or micros is None:
            raise RedisWireError("TIME returned no value")
        return int(seconds) + int(micros) / 1e6

    def pipelines(self, work, timeout: float):
        """Run ``work(pipe)`` on one connection within ``timeout`` seconds: ``pipe(commands)``
        sends commands at once and returns their replies (bytes, int, None or lists), as many
        times as ``work`` needs; any failure is raised as RedisWireError."""
        connection = self.connect(timeout)
        try:
            return work(connection.pipe)
        finally:
            connection.close()

    def connect(self, timeout: float) -> RedisConnection:
        """An open, authenticated connection to the database, made within ``timeout``
        seconds; each of its pipelines has as long again."""
        return RedisConnection(self, timeout)

    def _session(self, work, timeout: float):
        """Connect, authenticate and select the database, run ``work``, close; all within
        ``timeout`` seconds, any failure raised as RedisWireError."""
        connection = self.connect(timeout)
        try:
            return connection.run(work)
        finally:
            connection.close()

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
        raise RedisWireError(f"Redis at {host}:{port}: name lookup timed out")
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


class RedisConnection:
    """One connection: connected, authenticated and on its database when made."""

    def __init__(self, address: RedisAddress, timeout: float) -> None:
        self.address, self.timeout = address, timeout
        self.deadline = time.monotonic() + timeout
        self.sock = None
        self.sock = self.run(lambda sock, _: sock, connecting=True)
        self.replies = _Replies(self.sock, self.deadline)

    def run(self, work, connecting: bool = False):
        """``work(sock, deadline)``, OSError raised as RedisWireError."""
        address = self.address
        try:
            if connecting:
                sock = address._connect(self.deadline)
                try:
                    # AUTH and SELECT go first, alone: pipelined behind a failed SELECT, the
                    # next command would land in database 0.
                    handshake = []
                    if address.password:
                        credentials = [address.username] if address.username else []
                        handshake.append(resp_command("AUTH", *credentials, address.password))
                    if address.db:
                        handshake.append(resp_command("SELECT", str(address.db)))
                    for reply in _round_trip(sock, handshake, self.deadline):
                        _expect(reply, b"+", "AUTH/SELECT")
                except BaseException:
                    sock.close()
                    raise
                return sock
            return work(self.sock, self.deadline)
        except OSError as exc:  # refused, reset, TLS failure, timeout, unknown host
            raise RedisWireError(f"Redis at {address.host}:{address.port}: {exc!r}") from exc

    def pipe(self, commands: list[bytes]) -> list:
        """Send ``commands`` at once; their replies (a refused command raised)."""
        if not commands:
            return []

        self.deadline = self.replies.deadline = time.monotonic() + self.timeout

        def exchange(sock, deadline: float) -> list:
            sock.settimeout(_remaining(deadline))
            sock.sendall(b"".join(commands))
            return [self.replies.reply() for _ in commands]

        replies = self.run(exchange)
        for reply in replies:
            if isinstance(reply, RedisWireError):
                raise reply
        return replies

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


class _Replies:
    """RESP replies of any type read off a socket through one buffer."""

    def __init__(self, sock, deadline: float) -> None:
        self.sock, self.deadline, self.buffer, self.at = sock, deadline, b"", 0

    def _fill(self) -> None:
        self.sock.settimeout(_remaining(self.deadline))
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionResetError("Redis closed the connection")
        self.buffer = self.buffer[self.at :] + chunk
        self.at = 0

    def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n", self.at)) < 0:
            self._fill()
        line = self.buffer[self.at : end]
        self.at = end + 2
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buffer) - self.at < size + 2:
                self._fill()
            value = self.buffer[self.at : self.at + size]
            self.at += size + 2
            return value
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self.reply() for _ in range(count)]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            return RedisWireError(f"Redis refused a command: {rest.decode(errors='replace')}")
        return rest


def _expect(reply: bytes, prefix: bytes, what: str) -> None:
    if not reply.startswith(prefix):
        raise RedisWireError(f"Redis refused {what}: {reply.decode(errors='replace')}")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("Redis round trip timed out")
    return left
