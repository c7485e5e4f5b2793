"""Celery tasks of the import pipeline (used when CELERY_BROKER_URL is set)."""

from __future__ import annotations

from celery import shared_task
from django.db import close_old_connections

from coffer.celery import app  # noqa: F401  (the app must exist before shared tasks bind to it)


@shared_task(name="coffer.imports.stage", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_stage(batch_id: str) -> None:
    from coffer.imports import staging

    close_old_connections()
    try:
        staging.run(batch_id=batch_id)
    finally:
        close_old_connections()


@shared_task(name="coffer.imports.commit", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def import_commit(batch_id: str, actor_id: str | None = None) -> None:
    """Commit a batch marked "committing"; a redelivered task finds it committed and does nothing."""
    from coffer.imports import services

    close_old_connections()
    try:
        services.import_commit_run(batch_id=batch_id, actor_id=actor_id)
    finally:
        close_old_connections()
