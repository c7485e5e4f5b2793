"""Roles and what each may do. The one place that answers "may this role ...?"."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Action(models.TextChoices):
    READ = "read"
    WRITE_TRANSACTIONS = "write_transactions"
    MANAGE_ACCOUNTS = "manage_accounts"
    MANAGE_CATEGORIES = "manage_categories"  # categories and tags
    MANAGE_BUDGETS = "manage_budgets"  # budgets and exchange rates
    MANAGE_RULES = "manage_rules"  # categorization rules
    MANAGE_MEMBERS = "manage_members"
    READ_AUDIT = "read_audit"
    UPDATE_TENANT = "update_tenant"  # rename, base currency
    MANAGE_TENANT = "manage_tenant"  # transfer ownership, delete


MINIMUM_ROLE = {
    Action.READ: Role.VIEWER,
    Action.WRITE_TRANSACTIONS: Role.MEMBER,
    Action.MANAGE_ACCOUNTS: Role.ADMIN,
    Action.MANAGE_CATEGORIES: Role.ADMIN,
    Action.MANAGE_BUDGETS: Role.ADMIN,
    Action.MANAGE_RULES: Role.ADMIN,
    Action.MANAGE_MEMBERS: Role.ADMIN,
    Action.READ_AUDIT: Role.ADMIN,
    Action.UPDATE_TENANT: Role.ADMIN,
    Action.MANAGE_TENANT: Role.OWNER,
}


def role_allows(role: str, action: str) -> bool:
    return RANK[Role(role)] >= RANK[MINIMUM_ROLE[Action(action)]]


def outranks_or_equals(role: str, other: str) -> bool:
    return RANK[Role(role)] >= RANK[Role(other)]
