"""Celery tasks of the data-quality jobs (used when CELERY_BROKER_URL is set)."""

from __future__ import annotations

from celery import shared_task
from django.db import close_old_connections

from coffer.celery import app  # noqa: F401  (the app must exist before shared tasks bind to it)


@shared_task(name="coffer.quality.analyse", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def quality_analyse(analysis_id: str) -> None:
    from coffer.quality import services

    close_old_connections()
    try:
        services.analysis_run(analysis_id=analysis_id)
    finally:
        close_old_connections()


@shared_task(name="coffer.quality.review", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def quality_review(review_id: str) -> None:
    from coffer.quality.review import runner

    close_old_connections()
    try:
        runner.review_run(review_id=review_id)
    finally:
        close_old_connections()
