"""Prometheus metrics of the process, and the text served at /metrics.

Labels are bounded on purpose: routes are templates (`/api/v1/tenants/{tenant}/accounts`,
`/t/<slug:tenant_slug>/`), never raw paths; anything unrouted is `<unmatched>`.

With several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by the
workers (`coffer serve --workers N` does it for you): every worker writes its samples there and
whichever worker answers /metrics sums them all (docs/operations.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

logger = logging.getLogger(__name__)

UNMATCHED = "<unmatched>"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SQL_COUNT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233)
_SQL_TIME_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
_RATE_BUCKETS = (100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000)

REQUEST_LATENCY = Histogram(
    "coffer_http_request_duration_seconds", "Time to answer a request, by method, route template and status",
    ["method", "route", "status"], buckets=_LATENCY_BUCKETS,
)
REQUEST_SQL_COUNT = Histogram(
    "coffer_http_request_sql_statements", "SQL statements run for one request, by route template",
    ["route"], buckets=_SQL_COUNT_BUCKETS,
)
REQUEST_SQL_TIME = Histogram(
    "coffer_http_request_sql_seconds", "Time spent in SQL for one request, by route template",
    ["route"], buckets=_SQL_TIME_BUCKETS,
)
JOB_DURATION = Histogram(
    "coffer_import_job_duration_seconds", "Duration of import jobs, by kind (stage, commit) and outcome",
    ["kind", "outcome"], buckets=_JOB_BUCKETS,
)
JOB_FAILURES = Counter("coffer_import_job_failures", "Import jobs that failed, by kind", ["kind"])
JOB_ROWS = Counter("coffer_import_job_rows", "Rows staged or committed by import jobs, by kind", ["kind"])
JOB_ROWS_PER_SECOND = Histogram(
    "coffer_import_job_rows_per_second", "Throughput of each import job that handled rows, by kind",
    ["kind"], buckets=_RATE_BUCKETS,
)
RATE_LIMITED = Counter(
    "coffer_rate_limited_requests", "API requests refused with 429, by what was limited", ["scope"]
)


def observe_request(*, method: str, route: str, status: int, seconds: float, sql_count: int,
                    sql_seconds: float) -> None:
    REQUEST_LATENCY.labels(method, route, str(status)).observe(seconds)
    REQUEST_SQL_COUNT.labels(route).observe(sql_count)
    REQUEST_SQL_TIME.labels(route).observe(sql_seconds)


def observe_import_job(*, kind: str, seconds: float, rows: int, ok: bool) -> None:
    JOB_DURATION.labels(kind, "ok" if ok else "failed").observe(seconds)
    if not ok:
        JOB_FAILURES.labels(kind).inc()
    if rows:
        JOB_ROWS.labels(kind).inc(rows)
        JOB_ROWS_PER_SECOND.labels(kind).observe(rows / max(seconds, 1e-6))


# --- measured when scraped ------------------------------------------------


def queue_depths() -> Iterator[tuple[str, str, int]]:
    """(runner, queue, jobs waiting): the Celery queue's length on the broker, or the jobs the
    in-process runner has accepted but not started yet (this process only)."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL:
        queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
        depth = _broker_queue_length(settings.CELERY_BROKER_URL, queue)
        if depth is not None:
            yield "celery", queue, depth
        return
    from coffer.imports import jobs

    executor = jobs._executor  # noqa: SLF001 (None until the first job)
    work_queue = getattr(executor, "_work_queue", None)
    yield "in-process", "imports", work_queue.qsize() if work_queue is not None else 0


def _broker_queue_length(url: str, queue: str, *, timeout: float = 2.0) -> int | None:
    """Messages waiting in `queue` (for Redis: LLEN of the queue's lists, priorities included)."""
    import kombu

    try:
        with kombu.Connection(url, connect_timeout=timeout, transport_options={"socket_timeout": timeout}) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            channel = conn.channel()
            try:
                return channel.queue_declare(queue=queue, passive=True).message_count
            except conn.channel_errors:
                return 0  # no such queue yet: nothing was ever sent, or all was consumed (Redis drops empty lists)
            finally:
                channel.close()
    except Exception as exc:  # the broker being down must not break the scrape
        logger.warning("queue depth of %r not measured: %s", queue, exc.__class__.__name__)
        return None


class QueueDepthCollector:
    def describe(self) -> list[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self._family()
        for runner, queue, depth in queue_depths():
            family.add_metric([runner, queue], depth)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("coffer_job_queue_depth", "Jobs waiting for a worker", labels=["runner", "queue"])


_scrape_time = CollectorRegistry(auto_describe=False)
_scrape_time.register(QueueDepthCollector())


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or None


def render() -> tuple[bytes, str]:
    """The exposition text and its content type: every worker's samples in multiprocess mode."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_scrape_time), CONTENT_TYPE_LATEST


CACHE_REQUESTS = Counter(
    "coffer_tenant_cache_requests", "Reads of the per-tenant selector cache, by selector and result "
    "(hit, miss, bypass: inside a transaction that wrote to the tenant, error: cache unreachable)",
    ["name", "result"],
)
