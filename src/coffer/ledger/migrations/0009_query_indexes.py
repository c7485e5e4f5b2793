"""Indexes for the transaction list's remaining filters (issue 7, "Performance").

- (tenant, account, amount, id): an account's transactions sorted by amount, keyset-paged.
- Trigram GIN indexes for the text filter (`icontains` on description, counterparty and reference is
  `UPPER(col::text) LIKE UPPER('%text%')` on PostgreSQL). The one exception to "indexes lead with
  the tenant": a GIN index has no order to lead with, and a tenant key in it (btree_gin) makes every
  search read the tenant's whole posting list, so the planner rightly prefers the tenant's btree
  and reads all the tenant's rows. Without it the trigrams find the few matching rows, and the
  query's tenant condition filters them. PostgreSQL only: SQLite has no GIN, there LIKE reads the
  tenant's rows. They are not part of the model state (Django's GinIndex cannot be skipped on
  SQLite), so the SQL is written out here.
- Extended statistics: an account or a category belongs to one tenant, but the planner assumes
  `tenant_id = X AND account_id = Y` are independent, estimates a few dozen rows and picks the bare
  account_id index plus a sort over the tenant-led (tenant, account, booked_on) one. Telling it about
  the dependency fixes the estimate (PostgreSQL only, like the trigram indexes).
"""

from django.db import migrations, models

TEXT_COLUMNS = ("description", "counterparty", "reference")


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that runs on PostgreSQL and is a no-op on any other database."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(column: str) -> PostgresOnlySQL:
    name = f"txn_{column}_trgm"
    return PostgresOnlySQL(
        sql=f'CREATE INDEX IF NOT EXISTS {name} ON ledger_transaction USING gin ((UPPER("{column}"::text)) gin_trgm_ops)',
        reverse_sql=f"DROP INDEX IF EXISTS {name}",
    )


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0008_expected_fee'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='transaction',
            index=models.Index(fields=['tenant', 'account', 'amount', 'id'], name='txn_tenant_account_amount'),
        ),
        # pg_trgm is a "trusted" extension (PostgreSQL 13+): the database owner may create it.
        PostgresOnlySQL(sql="CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop),
        *(trigram_index(column) for column in TEXT_COLUMNS),
        PostgresOnlySQL(
            sql="CREATE STATISTICS IF NOT EXISTS txn_tenant_account_stats (dependencies, ndistinct) "
                "ON tenant_id, account_id FROM ledger_transaction",
            reverse_sql="DROP STATISTICS IF EXISTS txn_tenant_account_stats",
        ),
        PostgresOnlySQL(
            sql="CREATE STATISTICS IF NOT EXISTS txn_tenant_category_stats (dependencies, ndistinct) "
                "ON tenant_id, category_id FROM ledger_transaction",
            reverse_sql="DROP STATISTICS IF EXISTS txn_tenant_category_stats",
        ),
    ]
