"""Running analyses and reviews in the background, like the import jobs (coffer.imports.jobs).

With CELERY_BROKER_URL set each job is a Celery task (acks late); without it a small thread
pool in the serving process runs it. Both jobs are idempotent: a redelivered analysis finds it
ready, a redelivered review finds it finished, and nothing is computed or paid twice.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connections

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def enqueue_analysis(analysis_id: uuid.UUID | str) -> Future | None:
    if settings.CELERY_BROKER_URL:
        from coffer.quality import tasks

        tasks.quality_analyse.delay(str(analysis_id))
        return None
    return _pool().submit(_in_thread, "analysis", str(analysis_id))


def enqueue_review(review_id: uuid.UUID | str) -> Future | None:
    if settings.CELERY_BROKER_URL:
        from coffer.quality import tasks

        tasks.quality_review.delay(str(review_id))
        return None
    return _pool().submit(_in_thread, "review", str(review_id))


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.IMPORT_WORKERS, thread_name_prefix="coffer-quality")
        return _executor


def _in_thread(kind: str, object_id: str) -> None:
    from coffer.quality import services
    from coffer.quality.review import runner

    try:
        if kind == "analysis":
            services.analysis_run(analysis_id=object_id)
        else:
            runner.review_run(review_id=object_id)
    finally:
        connections.close_all()  # this thread's connections; Django's request clean-up never runs here
