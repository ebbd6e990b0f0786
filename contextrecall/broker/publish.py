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
import binascii
import json
import os

from contextrecall.broker.config import QUEUE
from contextrecall.broker.redis_wire import REDIS_SCHEMES, RedisAddress, RedisWireError
from contextrecall.ids import random_uuid

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from contextrecall.settings import Settings

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
    queue: str = QUEUE,
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
    try:
        RedisAddress.parse(broker_url).lpush(queue, json.dumps(message).encode(), timeout)
    except RedisWireError as exc:
        raise PublishError(str(exc)) from exc
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
        from contextrecall.broker.config import sender_app
        from contextrecall.settings import get_settings

        app = sender_app((settings or get_settings()).with_overrides(broker_url=broker_url))
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
