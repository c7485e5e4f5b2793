"""Reading rules, previewing what they would change, and category suggestions: tenant-scoped, bounded."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

from django.db import models

from coffer import errors
from coffer.ledger import rules, suggestions
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger.models import Category, Rule, RuleTag, Transaction
from coffer.tenancy.models import Tenant


def _with_tags(queryset: models.QuerySet, tenant: Tenant) -> models.QuerySet:
    return queryset.prefetch_related(models.Prefetch(
        "tag_links", queryset=RuleTag.objects.filter(tenant=tenant).select_related("tag").order_by("tag__name", "id")
    ))


def rule_list(*, tenant: Tenant) -> list[Rule]:
    """Every rule of the tenant in the order they run (at most MAX_RULES_PER_TENANT), with their tags; two queries."""
    return list(_with_tags(Rule.objects.filter(tenant=tenant), tenant).order_by("position", "id")[
        : rules.MAX_RULES_PER_TENANT
    ])


def rule_get(*, tenant: Tenant, rule_id: uuid.UUID | str) -> Rule:
    try:
        rule_uuid = rule_id if isinstance(rule_id, uuid.UUID) else uuid.UUID(str(rule_id))
    except ValueError:
        rule_uuid = None
    found = _with_tags(Rule.objects.filter(tenant=tenant), tenant).filter(pk=rule_uuid).first() if rule_uuid else None
    if found is None:
        raise errors.NotFound("No such rule")
    return found


def rule_tag_names(rule: Rule) -> list[str]:
    """The names of the tags a rule adds (from the prefetched links), alphabetical."""
    return sorted((link.tag.name for link in rule.tag_links.all()), key=str.casefold)


def rule_preview(
    *, tenant: Tenant, account_id: Any = None, booked_from: dt.date | None = None, booked_to: dt.date | None = None,
    sample_size: int = rules.SAMPLE_SIZE,
) -> rules.Preview:
    """How many of the tenant's transactions applying the enabled rules now would change, with a sample."""
    if not 0 <= sample_size <= 100:
        raise errors.ValidationError("sample must be between 0 and 100", field_errors={"sample": "Between 0 and 100."})
    scope = rules.scope_for(tenant=tenant, account_id=account_id, booked_from=booked_from, booked_to=booked_to)
    return rules.preview(tenant=tenant, scope=scope, sample_size=sample_size)


@dataclasses.dataclass
class SuggestedTransaction:
    transaction: Transaction
    suggestion: suggestions.Suggestion | None
    category: Category | None  # the suggested category, with its parent


def suggestion_page(
    *, tenant: Tenant, limit: int, after: list[str] | None = None, account_id: uuid.UUID | None = None,
) -> tuple[list[SuggestedTransaction], list[str] | None]:
    """One page of uncategorized transactions (newest first), each with the category suggested for it, or None.

    A fixed number of queries: the page (and its tags), the tenant's recent categorized history, the categories.
    """
    rows, next_key = ledger_selectors.transaction_page(
        tenant=tenant, limit=limit, sort="-booked_on", after=after, account_id=account_id,
        category=ledger_selectors.UNCATEGORIZED,
    )
    if not rows:
        return [], next_key
    learner = suggestions.learner_for(tenant)
    found = [learner.suggest(counterparty=row.counterparty, description=row.description, amount=row.amount) for row in rows]
    wanted = {suggestion.category_id for suggestion in found if suggestion is not None}
    in_use = Category.objects.filter(tenant=tenant, pk__in=wanted).select_related("parent") if wanted else []
    categories = {category.pk: category for category in in_use}
    items = [
        SuggestedTransaction(
            transaction=row, suggestion=suggestion,
            category=categories.get(suggestion.category_id) if suggestion is not None else None,
        )
        for row, suggestion in zip(rows, found, strict=True)
    ]
    return items, next_key
