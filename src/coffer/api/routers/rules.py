"""Categorization rules of a tenant: /api/v1/tenants/{tenant}/rules.

A rule matches a transaction when all its conditions hold: description, counterparty and
reference (`contains`, `equals`, `starts_with`, case-insensitive, or `regex`), amount (equal,
range, sign), account, booking period. Its actions set a category, add tags, replace the
counterparty, fill an empty note. Enabled rules run in `position` order; for each field the
first matching rule that sets it wins, tags of every matching rule are added. A category set by
hand (or by an accepted suggestion, or by the import file) is never replaced by a rule; rules
set `category_source` "rule".

Rules run when an import is committed, and on demand: `GET .../rules/preview` says how many
transactions `POST .../rules/apply` would change, with a sample.

Regexes are a safe dialect matched against at most 500 characters: literals, `.`, classes
`[...]`, `\\d \\s \\w` (and `\\D \\S \\W`), `\\b`, `^ $`, groups `(...)` / `(?:...)`, `|`, and
`* + ? {m,n}` (bounds up to 100). Lookarounds, backreferences and flags are refused, and so are
patterns that could backtrack catastrophically (`(a+)+`, `\\w*\\w*x`), with a message saying why.

Everyone reads and previews; admins and owners create, change, reorder, delete and apply.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import Depends, Query, Response

from coffer.api import deps
from coffer.api.routing import CofferRouter
from coffer.api.schemas import rules as schemas
from coffer.ledger import rule_selectors, rule_services
from coffer.ledger import rules as ledger_rules
from coffer.ledger.models import Rule
from coffer.tenancy import roles

router = CofferRouter(tags=["rules"])

BASE = "/tenants/{tenant}/rules"


def _text(rule: Rule, field: str) -> dict | None:
    operator = getattr(rule, f"{field}_operator")
    return {"operator": operator, "value": getattr(rule, f"{field}_value")} if operator else None


def _amount(rule: Rule) -> dict | None:
    if rule.amount_min is None and rule.amount_max is None and not rule.amount_sign:
        return None
    equal = rule.amount_min is not None and rule.amount_min == rule.amount_max
    return {
        "equals": rule.amount_min if equal else None,
        "min": None if equal else rule.amount_min,
        "max": None if equal else rule.amount_max,
        "sign": rule.amount_sign or None,
    }


def _out(rule: Rule) -> dict:
    """Expects the rule's tag links prefetched (rule_selectors)."""
    return schemas.CategoryRuleOut(
        id=rule.pk, name=rule.name, position=rule.position, enabled=rule.enabled,
        conditions={
            "description": _text(rule, "description"), "counterparty": _text(rule, "counterparty"),
            "reference": _text(rule, "reference"), "amount": _amount(rule), "account_id": rule.account_id,
            "booked_from": rule.booked_from, "booked_to": rule.booked_to,
        },
        actions={
            "category_id": rule.category_id, "tags": rule_selectors.rule_tag_names(rule),
            "counterparty": rule.set_counterparty or None, "note": rule.set_note or None,
        },
        created_at=rule.created_at, updated_at=rule.updated_at,
    ).model_dump(mode="json")


def _fresh(ctx: deps.TenantContext, rule: Rule) -> dict:
    return _out(rule_selectors.rule_get(tenant=ctx.tenant, rule_id=rule.pk))


def _preview_item(item: ledger_rules.PreviewItem) -> dict:
    row = item.transaction
    return {
        "transaction_id": row.pk, "account_id": row.account_id, "booked_on": row.booked_on, "amount": row.amount,
        "currency": row.account.currency, "description": row.description, "counterparty": row.counterparty,
        "category_id": row.category_id, "new_category_id": item.new_category_id,
        "new_counterparty": item.new_counterparty, "new_note": item.new_note, "tags_added": item.tags_added,
        "rule_ids": item.rule_ids,
    }


@router.get(BASE, response_model=schemas.CategoryRuleList)
def rule_list(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Every rule in the order they run (one list, never paged: a tenant has at most 200)."""
    ctx.require(roles.Action.READ)
    return {"items": [_out(rule) for rule in rule_selectors.rule_list(tenant=ctx.tenant)]}


@router.post(BASE, status_code=201, response_model=schemas.CategoryRuleOut)
def rule_create(payload: schemas.CategoryRuleIn, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """A rule, placed after the others. 422 for a refused regex (the message says why), an account, category or tag
    that is not the tenant's, or a rule without conditions or actions; 409 for an archived category or past 200
    rules."""
    ctx.require(roles.Action.MANAGE_RULES)
    body = payload.model_dump()
    rule = rule_services.rule_create(
        tenant=ctx.tenant, actor=ctx.user, name=body["name"], enabled=body["enabled"],
        conditions=body["conditions"], actions=body["actions"],
    )
    return _fresh(ctx, rule)


@router.get(BASE + "/preview", response_model=schemas.RulePreview)
def rule_preview(
    ctx: deps.TenantContext = Depends(deps.tenant_context),
    account: uuid.UUID | None = Query(None, description="Only this account's transactions"),
    booked_from: dt.date | None = Query(None, description="Booked on or after this day"),
    booked_to: dt.date | None = Query(None, description="Booked on or before this day"),
    sample: int = Query(ledger_rules.SAMPLE_SIZE, ge=0, le=100, description="How many changed transactions to show"),
):
    """What applying the enabled rules now would do: how many transactions would change, and the newest of them
    with their new values. Changes nothing."""
    ctx.require(roles.Action.READ)
    preview = rule_selectors.rule_preview(
        tenant=ctx.tenant, account_id=account, booked_from=booked_from, booked_to=booked_to, sample_size=sample
    )
    return {"count": preview.count, "sample": [_preview_item(item) for item in preview.sample]}


@router.post(BASE + "/apply", response_model=schemas.RuleApplied)
def rule_apply(payload: schemas.RuleScope | None = None, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Apply the enabled rules to past transactions (all, or one account's, or a period's); `changed` is what the
    preview counted."""
    ctx.require(roles.Action.MANAGE_RULES)
    scope = (payload or schemas.RuleScope()).model_dump()
    changed = rule_services.rule_apply(tenant=ctx.tenant, actor=ctx.user, **scope)
    return {"changed": changed}


@router.post(BASE + "/reorder", response_model=schemas.CategoryRuleList)
def rule_reorder(payload: schemas.RuleOrder, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Put the rules in this order; `rule_ids` lists every rule of the tenant exactly once (422 otherwise)."""
    ctx.require(roles.Action.MANAGE_RULES)
    rule_services.rule_reorder(tenant=ctx.tenant, actor=ctx.user, rule_ids=payload.rule_ids)
    return {"items": [_out(rule) for rule in rule_selectors.rule_list(tenant=ctx.tenant)]}


@router.post(BASE + "/defaults", response_model=schemas.CategoryRuleList)
def rule_defaults(ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """Add the default fee rules (account, card, foreign-exchange, overdraft and late fees into the subcategories
    of "Fees & charges"); those already there (by name) are skipped. Lists the rules added."""
    ctx.require(roles.Action.MANAGE_RULES)
    created = {rule.pk for rule in rule_services.rule_defaults_seed(tenant=ctx.tenant, actor=ctx.user)}
    rows = [rule for rule in rule_selectors.rule_list(tenant=ctx.tenant) if rule.pk in created]
    return {"items": [_out(rule) for rule in rows]}


@router.get(BASE + "/{rule_id}", response_model=schemas.CategoryRuleOut)
def rule_detail(rule_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    ctx.require(roles.Action.READ)
    return _out(rule_selectors.rule_get(tenant=ctx.tenant, rule_id=rule_id))


@router.patch(BASE + "/{rule_id}", response_model=schemas.CategoryRuleOut)
def rule_update(
    rule_id: uuid.UUID, payload: schemas.CategoryRulePatch, ctx: deps.TenantContext = Depends(deps.tenant_context)
):
    """Rename, enable or disable; `conditions` and `actions` each replace the rule's as a whole."""
    ctx.require(roles.Action.MANAGE_RULES)
    rule = rule_services.rule_update(
        tenant=ctx.tenant, actor=ctx.user, rule_id=rule_id, changes=payload.model_dump(exclude_unset=True)
    )
    return _fresh(ctx, rule)


@router.delete(BASE + "/{rule_id}", status_code=204, response_class=Response)
def rule_delete(rule_id: uuid.UUID, ctx: deps.TenantContext = Depends(deps.tenant_context)):
    """What the rule already changed stays."""
    ctx.require(roles.Action.MANAGE_RULES)
    rule_services.rule_delete(tenant=ctx.tenant, actor=ctx.user, rule_id=rule_id)
    return Response(status_code=204)
