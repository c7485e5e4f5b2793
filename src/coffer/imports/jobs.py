"""Running the import job in the background.

With CELERY_BROKER_URL set, the job is a Celery task (acks late: a killed worker's job is
delivered again). Without it (the embedded default) a small thread pool in the serving
process runs it: nothing to install, still in the background, progress saved on the batch.
Either way the job is `staging.run`, which is idempotent. Committing a batch in review is a job
of its own (`enqueue_commit`), run the same way: `services.import_commit_run`, one transaction,
idempotent, so a redelivered or repeated commit job adds nothing.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import connections

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def enqueue(batch_id: uuid.UUID | str) -> Future | None:
    """Start reading the batch in the background; returns the thread's future in the embedded runner."""
    if settings.CELERY_BROKER_URL:
        from coffer.imports import tasks

        tasks.import_stage.delay(str(batch_id))
        return None
    return _pool().submit(_run_in_thread, str(batch_id))


def enqueue_commit(batch_id: uuid.UUID | str, actor_id: uuid.UUID | str | None = None) -> Future | None:
    """Commit a batch marked "committing" in the background; returns the thread's future in the embedded runner."""
    actor = str(actor_id) if actor_id is not None else None
    if settings.CELERY_BROKER_URL:
        from coffer.imports import tasks

        tasks.import_commit.delay(str(batch_id), actor)
        return None
    return _pool().submit(_commit_in_thread, str(batch_id), actor)


def run_now(batch_id: uuid.UUID | str) -> None:
    """Run the job in this thread and wait (the CLI, benchmarks)."""
    from coffer.imports import staging

    staging.run(batch_id=batch_id)


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=settings.IMPORT_WORKERS, thread_name_prefix="coffer-import")
        return _executor


def _run_in_thread(batch_id: str) -> None:
    from coffer.imports import staging

    try:
        staging.run(batch_id=batch_id)
    finally:
        connections.close_all()  # this thread's connections; Django's request clean-up never runs here


def _commit_in_thread(batch_id: str, actor_id: str | None) -> None:
    from coffer.imports import services

    try:
        services.import_commit_run(batch_id=batch_id, actor_id=actor_id)
    finally:
        connections.close_all()
