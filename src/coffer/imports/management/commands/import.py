"""`coffer import FILE --tenant SLUG --account NAME [--create-account CURRENCY] [--sheet NAME] [--commit] [--json]`

Runs the same pipeline as an upload, in this process, and waits. Without --commit it stops at
review. Exit 0 when it ran (even with row errors); non-zero with a message on stderr when the
file cannot be read or the tenant/account is unknown.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coffer import errors
from coffer.imports import jobs, selectors, services
from coffer.imports.models import ImportBatch
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account
from coffer.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Import a bank or ledger spreadsheet into an account."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--tenant", required=True, help="tenant slug (or id)")
        parser.add_argument("--account", required=True, help="account name in that tenant")
        parser.add_argument("--create-account", metavar="CURRENCY", help="create the account when it does not exist")
        parser.add_argument("--sheet", default="", help="sheet to read (default: chosen automatically)")
        parser.add_argument("--commit", action="store_true", help="commit the valid rows (default: stop at review)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        tenant = _tenant(options["tenant"])
        account = _account(tenant, options["account"], options["create_account"])
        try:
            with path.open("rb") as content:
                batch = services.import_create(
                    tenant=tenant, actor=None, account_id=account.pk, file_name=path.name, content=content,
                    sheet=options["sheet"], enqueue=False,
                )
            jobs.run_now(batch.pk)
            batch.refresh_from_db()
            if options["commit"] and batch.status == ImportBatch.Status.REVIEW:
                batch = services.import_commit(tenant=tenant, actor=None, import_id=batch.pk)
        except errors.DomainError as exc:
            raise CommandError(exc.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(result(batch), ensure_ascii=False))
        else:
            self.stdout.write(_text(batch))
        if batch.status == ImportBatch.Status.FAILED:
            raise CommandError(f"Cannot import {path.name}: {batch.error}")


def _tenant(ref: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=ref).first()
    if tenant is None and selectors.parse_uuid(ref):
        tenant = Tenant.objects.filter(pk=selectors.parse_uuid(ref)).first()
    if tenant is None:
        raise CommandError(f"No tenant {ref!r}")
    return tenant


def _account(tenant: Tenant, name: str, currency: str | None) -> Account:
    account = Account.objects.filter(tenant=tenant, name=name.strip()).first()
    if account is not None:
        return account
    if not currency:
        raise CommandError(f"No account {name!r} in {tenant.slug}; pass --create-account CURRENCY to create it")
    try:
        return ledger_services.account_create(tenant=tenant, actor=None, name=name, currency=currency)
    except errors.DomainError as exc:
        raise CommandError(exc.message) from None


def result(batch: ImportBatch) -> dict:
    """The --json object: exactly the keys issue 3 lists (a failed file's reason goes to stderr)."""
    issues = [] if batch.status == ImportBatch.Status.FAILED else list(
        selectors.import_issues_all(tenant=batch.tenant, import_id=batch.pk)
    )
    return {
        "import_id": str(batch.pk),
        "status": batch.status,
        "sheet": batch.sheet or None,
        "header_row": batch.header_row,
        "mapping": selectors.mapping_letters(batch.mapping),
        "rows_total": batch.rows_total,
        "rows_valid": batch.rows_valid,
        "rows_with_errors": batch.rows_with_errors,
        "rows_duplicate": batch.rows_duplicate,
        "rows_committed": batch.rows_committed,
        "issues": issues,
    }


def _text(batch: ImportBatch) -> str:
    return (
        f"import {batch.pk}: {batch.status}; {batch.rows_total} rows, {batch.rows_with_errors} with errors, "
        f"{batch.rows_duplicate} duplicates, {batch.rows_committed} committed"
        + (f"\n{batch.error}" if batch.error else "")
    )
