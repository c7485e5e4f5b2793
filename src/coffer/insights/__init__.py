"""Dashboards and reports: read-only aggregates over a tenant's ledger (selectors only, no models)."""
