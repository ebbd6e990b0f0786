"""A Celery app with one task, ``recall.probe``, that writes down how it was called (tests only).

The worker subprocess started by ``test_publish.py`` loads it with ``-A``; like the real app it
reads the broker and home from the environment through Settings and uses the project's Celery
configuration, so it consumes messages exactly as the production worker would.
"""

from __future__ import annotations

import json

from celery import Celery

from contextrecall.settings import Settings
from contextrecall.worker.config import celery_config

app = Celery("publish-probe")
app.conf.update(celery_config(Settings.from_env()))

# Request fields a sender controls; the worker fills in the rest (hostname, is_eager, ...).
REQUEST_FIELDS = (
    "id",
    "root_id",
    "parent_id",
    "group",
    "group_index",
    "retries",
    "eta",
    "expires",
    "timelimit",
    "argsrepr",
    "kwargsrepr",
    "origin",
    "reply_to",
    "correlation_id",
    "delivery_info",
    "ignore_result",
    "replaced_task_nesting",
    "stamped_headers",
    "stamps",
    "shadow",
    "lang",
)


@app.task(name="recall.probe", bind=True)
def probe(self, *args, **kwargs) -> None:
    """Append one JSON line (args, kwargs, request fields) to the file ``kwargs["record"]``."""
    request = {field: getattr(self.request, field, None) for field in REQUEST_FIELDS}
    line = json.dumps({"args": list(args), "kwargs": kwargs, "request": request}, default=repr)
    with open(kwargs["record"], "a", encoding="utf-8") as record:
        record.write(line + "\n")
