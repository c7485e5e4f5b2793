"""Changing rules (create, update, delete, reorder, default fee rules), applying them on demand, and
accepting a category suggestion. Each function is one transaction with one audit entry.

Conditions and actions arrive as plain dicts (the API's schemas and any web form build them):

    conditions = {"description": {"operator": "contains", "value": "netflix"},   # or counterparty, reference
                  "amount": {"equals": "-9.99"} | {"min": "-20", "max": "-5", "sign": "negative"},
                  "account_id": ..., "booked_from": date, "booked_to": date}
    actions = {"category_id": ..., "tags": ["name", ...], "counterparty": "Netflix", "note": "..."}

An update replaces `conditions` (or `actions`) as a whole when it sends them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from coffer import errors, money
from coffer.audit import services as audit_services
from coffer.ledger import rule_regex, rules, suggestions
from coffer.ledger import services as ledger_services
from coffer.ledger.models import Account, Category, CategorySource, Rule, RuleTag, Tag, Transaction
from coffer.tenancy.models import Tenant, User

RULE_NAME_MAX = 120
TEXT_VALUE_MAX = 200
NOTE_MAX = 1000
RULE_FIELDS = [
    "name", "enabled", "position", "description_operator", "description_value", "counterparty_operator",
    "counterparty_value", "reference_operator", "reference_value", "amount_min", "amount_max", "amount_sign",
    "account", "booked_from", "booked_to", "category", "set_counterparty", "set_note",
]
RULE_EDITABLE = {"name", "enabled", "conditions", "actions"}
CONDITION_KEYS = {"description", "counterparty", "reference", "amount", "account_id", "booked_from", "booked_to"}
AMOUNT_KEYS = {"equals", "min", "max", "sign"}
ACTION_KEYS = {"category_id", "tags", "counterparty", "note"}

# The default fee rules (issue 6, fees): (rule name, subcategory of "Fees & charges", description regex).
FEES_PARENT = "Fees & charges"
DEFAULT_FEE_RULES: tuple[tuple[str, str, str], ...] = (
    ("Account fees", "Account fees",
     r"(account|maintenance|monthly|service|management|package) (fee|charge)"),
    ("Card fees", "Card fees", r"(card|annual|atm|cash withdrawal|replacement card) (fee|charge)"),
    ("Foreign exchange fees", "Foreign exchange fees",
     r"(foreign|fx|exchange|currency|conversion|international|non-sterling|cross-border) (transaction )?(fee|charge)"),
    ("Overdraft fees and interest", "Overdraft & interest", r"overdraft|debit interest|arranged od|unarranged od"),
    ("Late fees", "Late fees", r"late (payment )?(fee|charge)|late payment"),
)


def _field_error(message: str, field: str) -> errors.ValidationError:
    return errors.ValidationError(message, field_errors={field: message})


def _unknown(values: dict[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise errors.ValidationError(
            f"Unknown fields: {', '.join(prefix + key for key in unknown)}",
            field_errors={prefix + key: "Unknown field." for key in unknown},
        )


def _dict(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _field_error(f"{field} must be an object", field)
    return value


def _rule_in_tenant(*, tenant: Tenant, rule_id: Any, lock: bool = False) -> Rule:
    rule_uuid = ledger_services._uuid(rule_id)
    queryset = Rule.objects.select_for_update() if lock else Rule.objects.all()
    rule = queryset.filter(tenant=tenant, pk=rule_uuid).first() if rule_uuid else None
    if rule is None:
        raise errors.NotFound("No such rule")
    return rule


def _rule_category(*, tenant: Tenant, category_id: Any, current_id: uuid.UUID | None) -> Category:
    """The tenant's category, in use (a rule keeps an archived one only if it already had it)."""
    field = "actions.category_id"
    category_uuid = ledger_services._uuid(category_id)
    category = (
        Category.objects.select_related("parent").filter(tenant=tenant, pk=category_uuid).first()
        if category_uuid else None
    )
    if category is None:
        raise _field_error("No such category in this tenant", field)
    archived = next((c for c in (category, category.parent) if c is not None and c.archived), None)
    if archived is not None and category.pk != current_id:
        raise errors.Conflict(
            f"The category {archived.name!r} is archived; unarchive it or choose another",
            field_errors={field: "Archived."},
        )
    return category


def _rule_tags(*, tenant: Tenant, names: Any) -> list[Tag]:
    if names is None:
        return []
    if isinstance(names, (list, tuple)) and len(names) > rules.MAX_TAGS_PER_RULE:
        raise _field_error(f"A rule adds at most {rules.MAX_TAGS_PER_RULE} tags", "actions.tags")
    try:
        return ledger_services._tags_by_name(tenant=tenant, names=names)
    except errors.ValidationError as exc:
        raise _field_error(exc.message, "actions.tags") from None


def _text(value: Any, *, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise _field_error(f"{field} must be text", field)
    value = value.strip()
    if len(value) > max_length:
        raise _field_error(f"{field} has at most {max_length} characters", field)
    return value


def _date(value: Any, field: str) -> dt.date | None:
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _field_error(f"{field} must be a date", field)
    return value


def _amount(value: Any, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return money.clean_amount(value, field=field)
    except errors.ValidationError as exc:
        raise _field_error(exc.message, field) from None


def _set_conditions(rule: Rule, *, tenant: Tenant, conditions: Any) -> None:
    """Replace every condition of `rule` with `conditions`; at least one is required."""
    conditions = _dict(conditions, "conditions")
    _unknown(conditions, CONDITION_KEYS, "conditions.")
    for name in rules.TEXT_FIELDS:
        condition = _dict(conditions.get(name), f"conditions.{name}")
        prefix = f"conditions.{name}"
        _unknown(condition, {"operator", "value"}, prefix + ".")
        operator, value = condition.get("operator"), condition.get("value")
        if not condition:
            operator, value = "", ""
        elif operator not in Rule.TextOperator.values:
            raise _field_error(
                f"{prefix}.operator is one of {', '.join(Rule.TextOperator.values)}", f"{prefix}.operator"
            )
        else:
            if not isinstance(value, str) or not value.strip():
                raise _field_error(f"{prefix}.value is required", f"{prefix}.value")
            # A regex keeps its spaces; the other operators compare trimmed text.
            value = value if operator == Rule.TextOperator.REGEX else value.strip()
            if len(value) > TEXT_VALUE_MAX:
                raise _field_error(f"{prefix}.value has at most {TEXT_VALUE_MAX} characters", f"{prefix}.value")
            if operator == Rule.TextOperator.REGEX:
                rule_regex.check(value, field=f"{prefix}.value")
        setattr(rule, f"{name}_operator", operator)
        setattr(rule, f"{name}_value", value)

    amount = _dict(conditions.get("amount"), "conditions.amount")
    _unknown(amount, AMOUNT_KEYS, "conditions.amount.")
    equals = _amount(amount.get("equals"), "conditions.amount.equals")
    low, high = _amount(amount.get("min"), "conditions.amount.min"), _amount(amount.get("max"), "conditions.amount.max")
    if equals is not None:
        if low is not None or high is not None:
            raise _field_error("Send either amount.equals or amount.min/max, not both", "conditions.amount.equals")
        low = high = equals
    if low is not None and high is not None and low > high:
        raise _field_error("amount.min is above amount.max", "conditions.amount.min")
    sign = amount.get("sign") or ""
    if sign not in Rule.Sign.values:
        raise _field_error("amount.sign is 'negative' or 'positive'", "conditions.amount.sign")
    if (sign == Rule.Sign.NEGATIVE and low is not None and low >= 0) or (
        sign == Rule.Sign.POSITIVE and high is not None and high <= 0
    ):
        raise _field_error("amount.sign contradicts the amount range: the rule could never match",
                           "conditions.amount.sign")
    rule.amount_min, rule.amount_max, rule.amount_sign = low, high, sign

    account_id = conditions.get("account_id")
    if account_id is None:
        rule.account = None
    else:
        account_uuid = ledger_services._uuid(account_id)
        account = Account.objects.filter(tenant=tenant, pk=account_uuid).first() if account_uuid else None
        if account is None:
            raise _field_error("No such account in this tenant", "conditions.account_id")
        rule.account = account

    rule.booked_from = _date(conditions.get("booked_from"), "conditions.booked_from")
    rule.booked_to = _date(conditions.get("booked_to"), "conditions.booked_to")
    if rule.booked_from and rule.booked_to and rule.booked_from > rule.booked_to:
        raise _field_error("booked_from is after booked_to", "conditions.booked_from")

    if not (
        any(getattr(rule, f"{name}_operator") for name in rules.TEXT_FIELDS)
        or low is not None or high is not None or sign or rule.account_id or rule.booked_from or rule.booked_to
    ):
        raise _field_error("A rule needs at least one condition; without one it would match every transaction",
                           "conditions")


def _set_actions(rule: Rule, *, tenant: Tenant, actions: Any, current_category: uuid.UUID | None) -> list[Tag]:
    """Replace every action of `rule`; returns the tags it adds (saved by the caller). At least one is required."""
    actions = _dict(actions, "actions")
    _unknown(actions, ACTION_KEYS, "actions.")
    category_id = actions.get("category_id")
    rule.category = (
        _rule_category(tenant=tenant, category_id=category_id, current_id=current_category)
        if category_id is not None else None
    )
    tags = _rule_tags(tenant=tenant, names=actions.get("tags"))
    counterparty, note = actions.get("counterparty"), actions.get("note")
    rule.set_counterparty = (
        _text(counterparty, field="actions.counterparty", max_length=TEXT_VALUE_MAX) if counterparty else ""
    )
    rule.set_note = _text(note, field="actions.note", max_length=NOTE_MAX) if note else ""
    if not (rule.category_id or tags or rule.set_counterparty or rule.set_note):
        raise _field_error("A rule needs at least one action: a category, tags, a counterparty or a note", "actions")
    return tags


def _tag_names(tags: list[Tag]) -> list[str]:
    return sorted((tag.name for tag in tags), key=str.casefold)


def _enabled(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _field_error("enabled must be true or false", "enabled")
    return value


def _next_position(tenant: Tenant) -> int:
    last = Rule.objects.filter(tenant=tenant).aggregate(last=models.Max("position"))["last"]
    return (last or 0) + 1


def _check_room(tenant: Tenant, adding: int = 1) -> None:
    if Rule.objects.filter(tenant=tenant).count() + adding > rules.MAX_RULES_PER_TENANT:
        raise errors.Conflict(f"A tenant has at most {rules.MAX_RULES_PER_TENANT} rules; delete some first")


# --- rules ----------------------------------------------------------------------------------------------


def rule_create(
    *, tenant: Tenant, actor: User | None, name: str, conditions: dict[str, Any], actions: dict[str, Any],
    enabled: bool = True,
) -> Rule:
    """A rule at the end of the tenant's order."""
    rule = Rule(tenant=tenant, created_by=actor, enabled=_enabled(enabled),
                name=ledger_services._clean_label(name, what="rule", max_length=RULE_NAME_MAX))
    with transaction.atomic():
        ledger_services._locked_tenant(tenant)
        _check_room(tenant)
        _set_conditions(rule, tenant=tenant, conditions=conditions)
        tags = _set_actions(rule, tenant=tenant, actions=actions, current_category=None)
        rule.position = _next_position(tenant)
        rule.save(force_insert=True)
        RuleTag.objects.bulk_create(RuleTag(tenant=tenant, rule=rule, tag=tag) for tag in tags)
        changes = audit_services.created_changes(rule, RULE_FIELDS)
        if tags:
            changes["tags"] = [None, _tag_names(tags)]
        audit_services.audit_record(tenant=tenant, actor=actor, action="rule.create", instance=rule, changes=changes)
    return rule


def rule_update(*, tenant: Tenant, actor: User | None, rule_id: uuid.UUID | str, changes: dict[str, Any]) -> Rule:
    """Rename, enable or disable, replace the conditions or the actions. A no-op writes nothing."""
    _unknown(changes, RULE_EDITABLE, "")
    with transaction.atomic():
        rule = _rule_in_tenant(tenant=tenant, rule_id=rule_id, lock=True)
        before = audit_services.snapshot(rule, RULE_FIELDS)
        current_category = rule.category_id
        old_tags = list(Tag.objects.filter(tenant=tenant, rule_links__rule=rule))
        new_tags = old_tags
        if "name" in changes:
            rule.name = ledger_services._clean_label(changes["name"], what="rule", max_length=RULE_NAME_MAX)
        if "enabled" in changes:
            rule.enabled = _enabled(changes["enabled"])
        if "conditions" in changes:
            _set_conditions(rule, tenant=tenant, conditions=changes["conditions"])
        if "actions" in changes:
            new_tags = _set_actions(rule, tenant=tenant, actions=changes["actions"], current_category=current_category)
        diff = audit_services.diff(before, audit_services.snapshot(rule, RULE_FIELDS))
        tags_changed = {tag.pk for tag in new_tags} != {tag.pk for tag in old_tags}
        if not diff and not tags_changed:
            return rule
        rule.save()
        if tags_changed:
            keep = {tag.pk for tag in new_tags}
            RuleTag.objects.filter(tenant=tenant, rule=rule).exclude(tag_id__in=keep).delete()
            present = {tag.pk for tag in old_tags}
            RuleTag.objects.bulk_create(
                RuleTag(tenant=tenant, rule=rule, tag=tag) for tag in new_tags if tag.pk not in present
            )
            diff["tags"] = [_tag_names(old_tags), _tag_names(new_tags)]
        audit_services.audit_record(tenant=tenant, actor=actor, action="rule.update", instance=rule, changes=diff)
    return rule


def rule_delete(*, tenant: Tenant, actor: User | None, rule_id: uuid.UUID | str) -> None:
    """Delete a rule; what it already changed stays."""
    with transaction.atomic():
        rule = _rule_in_tenant(tenant=tenant, rule_id=rule_id, lock=True)
        changes = audit_services.deleted_changes(rule, RULE_FIELDS)
        tags = list(Tag.objects.filter(tenant=tenant, rule_links__rule=rule))
        if tags:
            changes["tags"] = [_tag_names(tags), None]
        audit_services.audit_record(tenant=tenant, actor=actor, action="rule.delete", instance=rule, changes=changes)
        RuleTag.objects.filter(tenant=tenant, rule=rule).delete()
        Rule.objects.filter(tenant=tenant, pk=rule.pk).delete()


def rule_reorder(*, tenant: Tenant, actor: User | None, rule_ids: list[Any]) -> list[Rule]:
    """Put the tenant's rules in this order: `rule_ids` lists each of them exactly once. Returns them in order."""
    if not isinstance(rule_ids, (list, tuple)):
        raise _field_error("rule_ids must be a list of rule ids", "rule_ids")
    wanted = [ledger_services._uuid(value) for value in rule_ids]
    with transaction.atomic():
        ledger_services._locked_tenant(tenant)
        current = list(Rule.objects.filter(tenant=tenant).order_by("position", "id"))
        by_id = {rule.pk: rule for rule in current}
        if any(rule_uuid is None or rule_uuid not in by_id for rule_uuid in wanted):
            raise errors.NotFound("No such rule")
        if len(set(wanted)) != len(wanted) or set(wanted) != set(by_id):
            raise _field_error(
                f"rule_ids must list each of the tenant's {len(by_id)} rules exactly once", "rule_ids"
            )
        before = [str(rule.pk) for rule in current]
        after = [str(rule_uuid) for rule_uuid in wanted]
        ordered = [by_id[rule_uuid] for rule_uuid in wanted]
        if before == after and all(rule.position == index for index, rule in enumerate(ordered, start=1)):
            return ordered
        now = timezone.now()
        for index, rule in enumerate(ordered, start=1):
            rule.position, rule.updated_at = index, now
        Rule.objects.bulk_update(ordered, ["position", "updated_at"])
        audit_services.audit_record(tenant=tenant, actor=actor, action="rule.reorder", object_type="rule",
                                    object_id="", changes={"order": [before, after]})
    return ordered


def rule_defaults_seed(*, tenant: Tenant, actor: User | None) -> list[Rule]:
    """Add the default fee rules (account, card, foreign-exchange, overdraft and late fees into the subcategories
    of "Fees & charges"), skipping any whose name the tenant already uses or whose category is gone or archived.
    One audit entry; returns the rules added."""
    with transaction.atomic():
        ledger_services._locked_tenant(tenant)
        names = {name.casefold() for name in Rule.objects.filter(tenant=tenant).values_list("name", flat=True)}
        categories = {
            category.name.casefold(): category
            for category in Category.objects.filter(
                tenant=tenant, parent__name__iexact=FEES_PARENT, archived_at__isnull=True,
                parent__archived_at__isnull=True,
            )
        }
        wanted = [
            (name, categories[child.casefold()], pattern) for name, child, pattern in DEFAULT_FEE_RULES
            if name.casefold() not in names and child.casefold() in categories
        ]
        if not wanted:
            return []
        _check_room(tenant, adding=len(wanted))
        position = _next_position(tenant)
        created = []
        for offset, (name, category, pattern) in enumerate(wanted):
            rule_regex.check(pattern, field="pattern")
            created.append(Rule(
                tenant=tenant, created_by=actor, name=name, position=position + offset, category=category,
                description_operator=Rule.TextOperator.REGEX, description_value=pattern,
                amount_sign=Rule.Sign.NEGATIVE,
            ))
        Rule.objects.bulk_create(created)
        audit_services.audit_record(tenant=tenant, actor=actor, action="rule.seed", object_type="rule", object_id="",
                                    changes={"rules": [None, [rule.name for rule in created]]})
    return created


def rule_apply(
    *, tenant: Tenant, actor: User | None, account_id: uuid.UUID | str | None = None,
    booked_from: dt.date | None = None, booked_to: dt.date | None = None,
) -> int:
    """Apply the enabled rules to the tenant's past transactions (or those of one account / period), in the
    database; returns how many changed (what the preview counted). Nothing changed: no audit entry."""
    scope = rules.scope_for(tenant=tenant, account_id=account_id, booked_from=booked_from, booked_to=booked_to)
    with transaction.atomic():
        enabled = rules.enabled_rules(tenant)
        changed = rules.run(tenant=tenant, scope=scope, rules=enabled) if enabled else 0
        if changed:
            changes: dict[str, list[Any]] = {"transactions_changed": [None, changed], "rules": [None, len(enabled)]}
            for key, value in (("account_id", scope.account_id), ("booked_from", booked_from), ("booked_to", booked_to)):
                if value is not None:
                    changes[key] = [None, value]
            audit_services.audit_record(tenant=tenant, actor=actor, action="rule.apply", object_type="rule",
                                        object_id="", changes=changes)
    return changed


# --- suggestions ----------------------------------------------------------------------------------------


def suggestion_accept(
    *, tenant: Tenant, actor: User | None, transaction_id: uuid.UUID | str, category_id: uuid.UUID | str | None = None,
) -> Transaction:
    """Put an uncategorized transaction in a suggested category, as if a person had chosen it (the source is
    "manual", so no rule replaces it). Without `category_id`, the current suggestion is accepted."""
    transaction_uuid = ledger_services._uuid(transaction_id)
    with transaction.atomic():
        row = (
            Transaction.objects.select_for_update().filter(tenant=tenant, pk=transaction_uuid).first()
            if transaction_uuid else None
        )
        if row is None:
            raise errors.NotFound("No such transaction")
        if row.category_id is not None:
            raise errors.Conflict("The transaction is already categorized; change its category on the transaction")
        confidence = None
        if category_id is None:
            suggestion = suggestions.learner_for(tenant).suggest(
                counterparty=row.counterparty, description=row.description, amount=row.amount
            )
            if suggestion is None:
                raise errors.Conflict("There is no suggestion for this transaction; choose a category")
            category_id, confidence = suggestion.category_id, suggestion.confidence
        category = ledger_services._assignable_category(tenant=tenant, category_id=category_id)
        row.category, row.category_source = category, CategorySource.MANUAL
        row.save(update_fields=["category", "category_source", "updated_at"])
        changes: dict[str, list[Any]] = {
            "category": [None, str(category.pk)],
            "category_source": [CategorySource.NONE.value, CategorySource.MANUAL.value],
        }
        if confidence is not None:
            changes["confidence"] = [None, confidence]
        audit_services.audit_record(tenant=tenant, actor=actor, action="suggestion.accept", instance=row,
                                    changes=changes)
    return row
