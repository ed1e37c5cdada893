"""Prometheus metrics: requests, latency per route and per answer stage, index size."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Searches take milliseconds, local LLM answers tens of seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _IndexSize(Collector):
    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        self.stats = stats

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily(
            "verirag_index_size", "live documents and chunks in the index", labels=["kind"]
        )
        for kind, value in self.stats().items():
            family.add_metric([kind], value)
        yield family


class Metrics:
    """One registry per server, so two servers in one process (tests) never collide."""

    def __init__(self, stats: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "verirag_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "verirag_request_seconds",
            "HTTP request latency by route",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "verirag_stage_seconds",
            "time per stage of a search or an answer (retrieve, generate, check...)",
            ["stage"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.answers = Counter(
            "verirag_answers",
            "answers given, by whether they abstained",
            ["abstained"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "verirag_tokens", "LLM tokens, in and out", ["direction"], registry=self.registry
        )
        self.registry.register(_IndexSize(stats))

    def observe_stages(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            self.stages.labels(stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
