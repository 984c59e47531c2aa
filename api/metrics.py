"""Prometheus metrics, recorded by a plain ASGI middleware (no per-request task or body copy).

Requests are labelled by route template (``/v1/artifacts/{artifact_id}``), never by raw path, so
the number of series stays bounded whatever ids clients send.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterable

    from prometheus_client.metrics_core import Metric
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from api.cache import AnswerCache

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per app, so several apps in one process (tests) keep separate counts."""

    def __init__(self, cache: AnswerCache) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("matchgraph_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("matchgraph_http_request_duration_seconds", "Time to answer, by route.",
                                 ["route"], buckets=BUCKETS, registry=self.registry)
        self.store_errors = Counter("matchgraph_store_unavailable", "Requests that found the store unreachable.",
                                    registry=self.registry)
        self.registry.register(_CacheCollector(cache))


class _CacheCollector(Collector):
    """Reads the answer cache's own counts at scrape time."""

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily("matchgraph_answer_cache_hits", "Answers served from the cache.",
                                  value=self.cache.hits)
        yield CounterMetricFamily("matchgraph_answer_cache_misses", "Answers computed.", value=self.cache.misses)
        yield GaugeMetricFamily("matchgraph_answer_cache_entries", "Answers held for the current graph version.",
                                value=len(self.cache))
        yield GaugeMetricFamily("matchgraph_answer_cache_bytes", "Bytes of the answers held.", value=self.cache.bytes)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - start)
