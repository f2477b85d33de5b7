"""Prometheus metrics of one app (its own registry, so apps never share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "xmargin_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "xmargin_http_request_seconds",
            "Time to serve a request",
            ["route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.commands = Counter(
            "xmargin_commands", "Commands seen by the writer", ["kind", "outcome"], registry=r
        )
        self.batch_size = Histogram(
            "xmargin_write_batch_size",
            "Commands per write transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.batch_seconds = Histogram(
            "xmargin_write_batch_seconds",
            "Time to apply and commit one batch",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.journal_seq = Gauge("xmargin_journal_seq", "Last journal sequence number", registry=r)
        self.accounts = Gauge("xmargin_accounts", "Accounts by risk level", ["level"], registry=r)
        self.events = Counter("xmargin_events", "Events published", ["kind"], registry=r)
        self.subscribers = Gauge("xmargin_event_subscribers", "Open event streams", registry=r)
        self.deficit_value = Gauge(
            "xmargin_deficit_value", "Bad debt written off, in quote", registry=r
        )

    def observe_batch(self, size: int, seconds: float, kinds: list[tuple[str, str]]) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        for kind, outcome in kinds:
            self.commands.labels(kind, outcome).inc()
