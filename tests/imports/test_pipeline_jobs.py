"""The import job: in the background (thread runner, or Celery on Redis), progress saved, idempotent retries."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coffer.imports import jobs, services, staging
from coffer.imports.models import ImportBatch, StagedRow
from tests import factories

SAMPLES = Path(__file__).parent / "samples"
FINISHED = {"review", "failed", "committed"}


@pytest.fixture
def owner(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return factories.user()


@pytest.fixture
def tenant(owner):
    return factories.organization(owner)


@pytest.fixture
def account(tenant):
    return factories.account(tenant, name="Main", currency="EUR")


def upload(tenant, owner, account, name="samples_overlap_a.csv", *, enqueue=True) -> ImportBatch:
    with (SAMPLES / name).open("rb") as content:
        return services.import_create(tenant=tenant, actor=owner, account_id=account.pk, file_name=name,
                                      content=content, enqueue=enqueue)


def wait_for(batch: ImportBatch, seconds: float = 30) -> ImportBatch:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status in FINISHED:
            return batch
        time.sleep(0.05)
    raise AssertionError(f"import still {batch.status} after {seconds}s")


def test_an_upload_is_stored_hashed_and_queued(tenant, owner, account, tmp_path):
    batch = upload(tenant, owner, account, enqueue=False)
    assert batch.status == "queued" and batch.size == (SAMPLES / "samples_overlap_a.csv").stat().st_size
    stored = Path(tmp_path) / batch.file_path
    assert stored.read_bytes() == (SAMPLES / "samples_overlap_a.csv").read_bytes()
    assert batch.file_path.startswith(f"imports/{tenant.pk}/{batch.pk}/")


def test_an_upload_into_another_tenants_account_is_refused(tenant, owner, account):
    stranger = factories.user()
    other = factories.organization(stranger)
    with pytest.raises(services.errors.ValidationError):
        upload(other, stranger, account, enqueue=False)
    assert not ImportBatch.objects.exists()


def test_a_batch_in_review_is_not_run_again(tenant, owner, account):
    batch = upload(tenant, owner, account, enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(status="review", rows_total=7)
    staging.run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "review" and batch.rows_total == 7 and batch.attempts == 0


def test_the_embedded_runner_reads_in_the_background(tenant, owner, account, settings):
    settings.CELERY_BROKER_URL = ""
    batch = wait_for(upload(tenant, owner, account))
    assert batch.attempts == 1 and batch.started_at is not None
    assert batch.status == "review", batch.error
    assert batch.rows_read == batch.rows_validated == batch.rows_written == batch.rows_total > 0
    assert StagedRow.objects.filter(batch=batch).count() == batch.rows_total


def test_a_retry_after_a_crash_rebuilds_the_staged_rows_once(tenant, owner, account):
    batch = upload(tenant, owner, account, enqueue=False)
    jobs.run_now(batch.pk)
    batch.refresh_from_db()
    total = batch.rows_total
    # A worker died mid-way: the batch is left "validating" with rows staged.
    ImportBatch.objects.filter(pk=batch.pk).update(status="validating")
    services.import_retry(tenant=tenant, actor=owner, import_id=batch.pk, enqueue=False)
    jobs.run_now(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "review" and batch.attempts == 2
    assert StagedRow.objects.filter(batch=batch).count() == total == batch.rows_total
    committed = services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    services.import_commit(tenant=tenant, actor=owner, import_id=batch.pk)
    assert account.transactions.count() == committed.rows_committed > 0


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL for a real Celery broker")
def test_a_celery_worker_on_redis_runs_the_job(tenant, owner, account, settings):
    from celery.contrib.testing.worker import start_worker

    from coffer.celery import app

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    app.conf.broker_url = os.environ["REDIS_URL"]
    app.conf.task_default_queue = f"coffer-test-{os.getpid()}"
    with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        batch = wait_for(upload(tenant, owner, account))
    assert batch.attempts == 1 and batch.started_at is not None
    assert batch.status == "review", batch.error
    assert StagedRow.objects.filter(batch=batch).count() == batch.rows_total > 0
