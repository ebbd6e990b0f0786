"""Flower as `recall flower` runs it: every page but the liveness probe behind basic auth."""

from __future__ import annotations


def protect_metrics() -> None:
    """Put Flower's Prometheus endpoint behind the same auth as its other pages.

    Flower 2.x serves /metrics to anyone (worker names, task names and counts); a Prometheus
    scraper can send basic-auth credentials like any other client. /healthcheck stays open.
    """
    from flower.views import monitor
    from tornado import web

    get = monitor.Metrics.get
    if getattr(get, "__recall_protected__", False):
        return
    protected = web.authenticated(get)
    protected.__recall_protected__ = True
    monitor.Metrics.get = protected
