"""Coffer: a self-hostable multi-tenant money platform."""
