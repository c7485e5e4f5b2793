"""The import job: in the background (thread runner, or Celery on Redis), progress saved, idempotent retries."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coffer.imports import jobs, services, staging
from coffer.imports.models import ImportBatch, StagedRow
from coffer.tenancy.models import Membership
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


# --- committing in the background ---------------------------------------------------------


def staged(tenant, owner, account) -> ImportBatch:
    batch = upload(tenant, owner, account, enqueue=False)
    jobs.run_now(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "review" and batch.rows_valid > 0, batch.error
    return batch


def wait_for_commit(batch: ImportBatch, seconds: float = 30) -> ImportBatch:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status != "committing":
            return batch
        time.sleep(0.05)
    raise AssertionError(f"import still committing after {seconds}s")


def test_commit_start_returns_at_once_and_the_embedded_runner_commits(tenant, owner, account, settings):
    settings.CELERY_BROKER_URL = ""
    batch = staged(tenant, owner, account)
    started = services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    assert started.status == "committing" and started.rows_committed == 0
    batch = wait_for_commit(batch)
    assert batch.status == "committed" and batch.error == ""
    assert batch.rows_committed == account.transactions.count() > 0
    account.refresh_from_db()
    assert account.balance == sum(t.amount for t in account.transactions.all())


def test_a_second_start_while_committing_changes_nothing(tenant, owner, account, monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: started.append(str(batch_id)))
    batch = staged(tenant, owner, account)
    services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    again = services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    assert again.status == "committing" and started == [str(batch.pk)]


@pytest.mark.parametrize("role", ["viewer", "stranger"])
def test_commit_start_refuses_viewers_and_people_outside_the_tenant(tenant, owner, account, role, monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: started.append(str(batch_id)))
    batch = staged(tenant, owner, account)
    person = factories.user()
    if role == "viewer":
        Membership.objects.create(tenant=tenant, user=person, role="viewer")
    expected = services.errors.PermissionDenied if role == "viewer" else services.errors.NotFound
    with pytest.raises(expected):
        services.import_commit_start(tenant=tenant, actor=person, import_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "review" and started == [] and not account.transactions.exists()


def test_a_member_may_start_a_commit(tenant, owner, account, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: None)
    batch = staged(tenant, owner, account)
    member = factories.user()
    Membership.objects.create(tenant=tenant, user=member, role="member")
    assert services.import_commit_start(tenant=tenant, actor=member, import_id=batch.pk).status == "committing"


@pytest.mark.parametrize("status", ["queued", "reading", "failed", "undone"])
def test_commit_start_refuses_an_import_not_in_review(tenant, owner, account, status, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: pytest.fail("no job"))
    batch = upload(tenant, owner, account, enqueue=False)
    ImportBatch.objects.filter(pk=batch.pk).update(status=status)
    with pytest.raises(services.errors.Conflict, match=f"is {ImportBatch.Status(status).label.lower()}"):
        services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == status


def test_a_commit_job_that_crashes_mid_way_writes_nothing_and_can_be_committed_again(
    tenant, owner, account, monkeypatch
):
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: None)
    batch = staged(tenant, owner, account)
    services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    real_insert = services._insert_from_staging

    def insert_then_die(**kwargs):
        real_insert(**kwargs)  # every row written inside the job's transaction ...
        raise RuntimeError("worker lost")  # ... then the job dies before it commits

    monkeypatch.setattr(services, "_insert_from_staging", insert_then_die)
    with pytest.raises(RuntimeError):
        services.import_commit_run(batch_id=batch.pk, actor_id=owner.pk)
    batch.refresh_from_db()
    account.refresh_from_db()
    assert batch.status == "review" and "nothing was written" in batch.error and batch.rows_committed == 0
    assert not account.transactions.exists() and account.balance == 0
    monkeypatch.setattr(services, "_insert_from_staging", real_insert)
    services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    services.import_commit_run(batch_id=batch.pk, actor_id=owner.pk)
    batch.refresh_from_db()
    assert batch.status == "committed" and batch.error == ""
    assert account.transactions.count() == batch.rows_committed > 0


def test_a_commit_whose_worker_died_is_retried_and_a_redelivered_job_adds_nothing(tenant, owner, account, monkeypatch):
    started: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_commit", lambda batch_id, actor_id=None: started.append(str(batch_id)))
    batch = staged(tenant, owner, account)
    services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
    # The worker died before its job ran: the batch stays "committing" and nothing is written.
    assert not account.transactions.exists()
    services.import_retry(tenant=tenant, actor=owner, import_id=batch.pk)
    assert started == [str(batch.pk), str(batch.pk)]
    services.import_commit_run(batch_id=batch.pk, actor_id=owner.pk)
    services.import_commit_run(batch_id=batch.pk, actor_id=owner.pk)  # delivered twice
    batch.refresh_from_db()
    assert batch.status == "committed" and account.transactions.count() == batch.rows_committed > 0


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL for a real Celery broker")
def test_a_celery_worker_on_redis_commits(tenant, owner, account, settings):
    from celery.contrib.testing.worker import start_worker

    from coffer.celery import app

    batch = staged(tenant, owner, account)
    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    app.conf.broker_url = os.environ["REDIS_URL"]
    app.conf.task_default_queue = f"coffer-test-{os.getpid()}"
    with start_worker(app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=10):
        services.import_commit_start(tenant=tenant, actor=owner, import_id=batch.pk)
        batch = wait_for_commit(batch)
    assert batch.status == "committed", batch.error
    assert account.transactions.count() == batch.rows_committed > 0
