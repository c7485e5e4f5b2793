"""The rule engine: which transactions a tenant's rules would change, and changing them, set-based.

What a run does (the API documents the same):

- The tenant's enabled rules run in `position` order. A rule matches a transaction when every
  condition it sets holds (AND). Text conditions are case-insensitive; a regex is the safe
  dialect of ledger.rule_regex.
- Category: the first matching rule that sets a category wins. A category set by hand
  (`category_source` "manual", which includes an accepted suggestion) or by the import file
  ("import") is never replaced; one set by an earlier rule run may be. The source becomes "rule".
- Counterparty: the first matching rule that sets one wins; it replaces the bank's text.
- Note: the first matching rule that sets one fills an *empty* note; a note is never replaced.
- Tags: every matching rule adds its tags (up to the per-transaction limit).
- Conditions see each transaction as it was before the run: every field is written by one UPDATE.

Work per run, whatever the number of transactions: one COUNT; for each rule that adds tags, one
UPDATE and one INSERT ... SELECT per tag; one UPDATE for all fields. Everything happens in the
database: no transaction is read into Python.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import lookups
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from coffer import errors
from coffer.audit import services as audit_services
from coffer.ledger import defaults, rule_regex
from coffer.ledger.models import Account, CategorySource, Rule, RuleTag, Tag, Transaction, TransactionTag
from coffer.ops import tenant_cache
from coffer.tenancy.models import Tenant

MAX_RULES_PER_TENANT = 200
MAX_TAGS_PER_RULE = 5
SAMPLE_SIZE = 20

TEXT_FIELDS = ("description", "counterparty", "reference")
_LOOKUPS = {
    Rule.TextOperator.CONTAINS: "icontains",
    Rule.TextOperator.EQUALS: "iexact",
    Rule.TextOperator.STARTS_WITH: "istartswith",
}
# Categories a rule never replaces.
PROTECTED_SOURCES = (CategorySource.MANUAL, CategorySource.IMPORT)


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which transactions a run looks at (all of the tenant's when empty)."""

    account_id: uuid.UUID | None = None
    booked_from: dt.date | None = None
    booked_to: dt.date | None = None
    import_batch_id: uuid.UUID | None = None


@dataclasses.dataclass
class PreviewItem:
    transaction: Transaction
    new_category_id: uuid.UUID | None
    new_counterparty: str | None
    new_note: str | None
    tags_added: list[str]
    rule_ids: list[uuid.UUID]


@dataclasses.dataclass
class Preview:
    count: int
    sample: list[PreviewItem]


# --- rules as SQL ---------------------------------------------------------------------------------------


def condition(rule: Rule) -> models.Q:
    """The rule's conditions as one filter on transactions."""
    match = models.Q()
    for field in TEXT_FIELDS:
        operator, value = getattr(rule, f"{field}_operator"), getattr(rule, f"{field}_value")
        if not operator:
            continue
        if operator == Rule.TextOperator.REGEX:
            pattern = rule_regex.for_database(value, connection.vendor)
            match &= models.Q(lookups.IRegex(
                Substr(models.F(field), 1, rule_regex.MATCHED_LENGTH), models.Value(pattern)
            ))
        else:
            match &= models.Q(**{f"{field}__{_LOOKUPS[operator]}": value})
    if rule.amount_min is not None:
        match &= models.Q(amount__gte=rule.amount_min)
    if rule.amount_max is not None:
        match &= models.Q(amount__lte=rule.amount_max)
    if rule.amount_sign == Rule.Sign.NEGATIVE:
        match &= models.Q(amount__lt=Decimal("0"))
    elif rule.amount_sign == Rule.Sign.POSITIVE:
        match &= models.Q(amount__gt=Decimal("0"))
    if rule.account_id is not None:
        match &= models.Q(account_id=rule.account_id)
    if rule.booked_from is not None:
        match &= models.Q(booked_on__gte=rule.booked_from)
    if rule.booked_to is not None:
        match &= models.Q(booked_on__lte=rule.booked_to)
    return match


def _category_usable(rule: Rule) -> bool:
    category = rule.category
    return category is not None and not category.archived and (category.parent is None or not category.parent.archived)


def _first_value(pairs: list[tuple[models.Q, Any]], output_field: models.Field) -> models.Case:
    """The value of the first matching condition, NULL when none matches."""
    return models.Case(
        *[models.When(match, then=models.Value(value, output_field=output_field)) for match, value in pairs],
        default=models.Value(None, output_field=output_field),
        output_field=output_field,
    )


# The links of one transaction, found through the unique (transaction, tag) index. No tenant filter here:
# the outer query is the tenant's, so are the links of its transactions, and a tenant filter leads
# PostgreSQL's planner to the (tenant, tag, ...) index, scanning every link of a tag per transaction.


def _has_tag(tag_id: uuid.UUID) -> models.Exists:
    return models.Exists(TransactionTag.objects.filter(transaction_id=models.OuterRef("pk"), tag_id=tag_id))


def _tag_count() -> models.Expression:
    counted = (
        TransactionTag.objects.filter(transaction_id=models.OuterRef("pk"))
        .order_by().values("transaction_id").annotate(n=models.Count("id")).values("n")[:1]
    )
    return Coalesce(models.Subquery(counted, output_field=models.IntegerField()), models.Value(0))


@dataclasses.dataclass
class _Plan:
    """Every enabled rule compiled to SQL, and the filter of what a run would change."""

    rules: list[tuple[Rule, models.Q]]
    category: models.Case | None = None
    category_change: models.Q | None = None
    counterparty: models.Case | None = None
    counterparty_change: models.Q | None = None
    note: models.Case | None = None
    note_change: models.Q | None = None
    tag_rules: list[tuple[Rule, models.Q, list[uuid.UUID]]] = dataclasses.field(default_factory=list)
    tag_change: models.Q | None = None

    @property
    def field_change(self) -> models.Q | None:
        parts = [q for q in (self.category_change, self.counterparty_change, self.note_change) if q is not None]
        return _any(parts)

    @property
    def change(self) -> models.Q | None:
        return _any([q for q in (self.field_change, self.tag_change) if q is not None])


def _any(parts: list[models.Q]) -> models.Q | None:
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def enabled_rules(tenant: Tenant) -> list[Rule]:
    """The tenant's enabled rules in order, with their category and tags, in two queries."""
    return list(
        Rule.objects.filter(tenant=tenant, enabled=True)
        .select_related("category", "category__parent")
        .prefetch_related(models.Prefetch(
            "tag_links", queryset=RuleTag.objects.filter(tenant=tenant).select_related("tag").order_by("id")
        ))
        .order_by("position", "id")[:MAX_RULES_PER_TENANT]
    )


def _plan(tenant: Tenant, rules: list[Rule]) -> _Plan:
    compiled = [(rule, condition(rule)) for rule in rules]
    plan = _Plan(rules=compiled)
    categories = [(match, rule.category_id) for rule, match in compiled if _category_usable(rule)]
    if categories:
        plan.category = _first_value(categories, models.UUIDField())
        plan.category_change = (
            ~models.Q(category_source__in=PROTECTED_SOURCES)
            & models.Q(lookups.IsNull(plan.category, False))
            & (models.Q(category__isnull=True) | ~models.Q(category=plan.category))
        )
    counterparties = [(match, rule.set_counterparty) for rule, match in compiled if rule.set_counterparty]
    if counterparties:
        plan.counterparty = _first_value(counterparties, models.CharField())
        plan.counterparty_change = models.Q(lookups.IsNull(plan.counterparty, False)) & ~models.Q(
            counterparty=plan.counterparty
        )
    notes = [(match, rule.set_note) for rule, match in compiled if rule.set_note]
    if notes:
        plan.note = _first_value(notes, models.CharField())
        plan.note_change = models.Q(note="") & models.Q(lookups.IsNull(plan.note, False))
    room = models.Q(lookups.LessThan(_tag_count(), defaults.MAX_TAGS_PER_TRANSACTION))
    for rule, match in compiled:
        tag_ids = [link.tag_id for link in rule.tag_links.all()]
        if tag_ids:
            plan.tag_rules.append((rule, match, tag_ids))
    if plan.tag_rules:
        plan.tag_change = _any([
            match & room & _any([~models.Q(_has_tag(tag_id)) for tag_id in tag_ids])
            for _, match, tag_ids in plan.tag_rules
        ])
    return plan


def scope_for(*, tenant: Tenant, account_id: Any = None, booked_from: dt.date | None = None,
              booked_to: dt.date | None = None) -> Scope:
    """A checked scope for previews and runs: the account is the tenant's, the period is in order."""
    account_uuid = None
    if account_id is not None:
        account_uuid = _uuid(account_id)
        if account_uuid is None or not Account.objects.filter(tenant=tenant, pk=account_uuid).exists():
            raise errors.ValidationError(
                "No such account in this tenant", field_errors={"account_id": "No such account in this tenant."}
            )
    if booked_from and booked_to and booked_from > booked_to:
        raise errors.ValidationError("booked_from is after booked_to", field_errors={"booked_from": "After booked_to."})
    return Scope(account_id=account_uuid, booked_from=booked_from, booked_to=booked_to)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def _scoped(tenant: Tenant, scope: Scope) -> models.QuerySet:
    queryset = Transaction.objects.filter(tenant=tenant)
    if scope.import_batch_id is not None:
        queryset = queryset.filter(import_batch_id=scope.import_batch_id)
    if scope.account_id is not None:
        queryset = queryset.filter(account_id=scope.account_id)
    if scope.booked_from is not None:
        queryset = queryset.filter(booked_on__gte=scope.booked_from)
    if scope.booked_to is not None:
        queryset = queryset.filter(booked_on__lte=scope.booked_to)
    return queryset


# --- preview --------------------------------------------------------------------------------------------


def _tags_added(row: Transaction, plan: _Plan, matched: set[int], names: dict[uuid.UUID, str]) -> list[str]:
    present = {tag.pk for tag in row.tags.all()}
    room = defaults.MAX_TAGS_PER_TRANSACTION - len(present)
    added: list[uuid.UUID] = []
    for index, (rule, _, tag_ids) in enumerate(plan.tag_rules):
        if index not in matched:
            continue
        for tag_id in tag_ids:
            if room > 0 and tag_id not in present:
                present.add(tag_id)
                added.append(tag_id)
                room -= 1
    return [names[tag_id] for tag_id in added]


def preview(*, tenant: Tenant, scope: Scope = Scope(), sample_size: int = SAMPLE_SIZE,
            rules: list[Rule] | None = None) -> Preview:
    """How many transactions a run would change, and the first `sample_size` of them (newest first) with
    what would change. A fixed number of queries, however many transactions."""
    rules = enabled_rules(tenant) if rules is None else rules
    plan = _plan(tenant, rules)
    change = plan.change
    if change is None:
        return Preview(count=0, sample=[])
    changing = _scoped(tenant, scope).filter(change)
    count = changing.count()
    if not count or sample_size <= 0:
        return Preview(count=count, sample=[])
    annotations: dict[str, Any] = {}
    if plan.category is not None:
        annotations["rule_new_category"] = models.Case(
            models.When(plan.category_change, then=plan.category), default=None, output_field=models.UUIDField()
        )
    if plan.counterparty is not None:
        annotations["rule_new_counterparty"] = models.Case(
            models.When(plan.counterparty_change, then=plan.counterparty), default=None, output_field=models.CharField()
        )
    if plan.note is not None:
        annotations["rule_new_note"] = models.Case(
            models.When(plan.note_change, then=plan.note), default=None, output_field=models.CharField()
        )
    for index, (_, match) in enumerate(plan.rules):
        annotations[f"rule_match_{index}"] = models.ExpressionWrapper(match, output_field=models.BooleanField())
    rows = list(
        changing.select_related("account")
        .prefetch_related(models.Prefetch("tags", queryset=Tag.objects.order_by("id")))
        .annotate(**annotations)
        .order_by("-booked_on", "-id")[:sample_size]
    )
    names = {link.tag_id: link.tag.name for rule, _, _ in plan.tag_rules for link in rule.tag_links.all()}
    tag_rule_index = {rule.pk: index for index, (rule, _, _) in enumerate(plan.tag_rules)}
    sample = []
    for row in rows:
        matched_rules = [rule for index, (rule, _) in enumerate(plan.rules) if getattr(row, f"rule_match_{index}")]
        matched_tag_rules = {tag_rule_index[rule.pk] for rule in matched_rules if rule.pk in tag_rule_index}
        sample.append(PreviewItem(
            transaction=row,
            new_category_id=getattr(row, "rule_new_category", None),
            new_counterparty=getattr(row, "rule_new_counterparty", None),
            new_note=getattr(row, "rule_new_note", None),
            tags_added=_tags_added(row, plan, matched_tag_rules, names),
            rule_ids=[rule.pk for rule in matched_rules],
        ))
    return Preview(count=count, sample=sample)


# --- applying -------------------------------------------------------------------------------------------


# A time-ordered id (uuid version 7) made by the database for each tag link an INSERT ... SELECT adds:
# 48 bits of milliseconds, the version, 12 random bits, the variant, 62 random bits.
_NEW_ID_SQL = {
    "postgresql": (
        "(lpad(to_hex(floor(extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7'"
        " || substr(md5(random()::text), 1, 3) || substr('89ab', 1 + floor(random() * 4)::int, 1)"
        " || substr(md5(random()::text), 1, 15))::uuid"
    ),
    # Django keeps a UUIDField as 32 hex digits on SQLite. "%%" is a literal "%" in a statement with parameters.
    "sqlite": (
        "printf('%%012x', CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)) || '7'"
        " || substr(lower(hex(randomblob(2))), 1, 3) || substr('89ab', 1 + abs(random() %% 4), 1)"
        " || substr(lower(hex(randomblob(8))), 1, 15)"
    ),
}


def _insert_links(*, tenant: Tenant, tag_id: uuid.UUID, candidates: models.QuerySet) -> None:
    """Link the tag to every transaction of `candidates` in one INSERT ... SELECT, inside the database."""
    sql, params = candidates.values(rule_candidate=models.F("pk")).query.sql_with_params()
    field = TransactionTag._meta.get_field
    columns = ", ".join(connection.ops.quote_name(field(name).column) for name in ("id", "tenant", "transaction", "tag"))
    table = connection.ops.quote_name(TransactionTag._meta.db_table)
    postgres = connection.vendor == "postgresql"
    prep = models.UUIDField().get_db_prep_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"{'INSERT INTO' if postgres else 'INSERT OR IGNORE INTO'} {table} ({columns}) "
            f"SELECT {_NEW_ID_SQL['postgresql' if postgres else 'sqlite']}, %s, candidates.rule_candidate, %s "
            f"FROM ({sql}) AS candidates{' ON CONFLICT DO NOTHING' if postgres else ''}",
            [prep(tenant.pk, connection), prep(tag_id, connection), *params],
        )


def _add_tags(*, tenant: Tenant, queryset: models.QuerySet, match: models.Q, tag_ids: list[uuid.UUID],
              now: dt.datetime) -> None:
    """Add a rule's tags to the transactions it matches that lack one and have room: an UPDATE marking them
    changed, then one INSERT ... SELECT per tag (each adds at most one tag to a transaction, and the room is
    checked again before the next)."""
    room = models.Q(lookups.LessThan(_tag_count(), defaults.MAX_TAGS_PER_TRANSACTION))
    lacking = _any([~models.Q(_has_tag(tag_id)) for tag_id in tag_ids])
    queryset.filter(match & room & lacking).update(updated_at=now)
    for tag_id in tag_ids:
        _insert_links(tenant=tenant, tag_id=tag_id,
                      candidates=queryset.filter(match & room & ~models.Q(_has_tag(tag_id))))


def run(*, tenant: Tenant, scope: Scope = Scope(), rules: list[Rule] | None = None) -> int:
    """Apply the rules to the scoped transactions; returns how many changed. No audit entry: callers write it.

    The count is taken first, with the filter the preview uses, so a preview and the run that follows it
    (with nothing changed in between) agree.
    """
    rules = enabled_rules(tenant) if rules is None else rules
    plan = _plan(tenant, rules)
    change = plan.change
    if change is None:
        return 0
    scoped = _scoped(tenant, scope)
    with transaction.atomic(savepoint=False):  # inside a caller's transaction, part of it
        count = scoped.filter(change).count()
        if not count:
            return 0
        tenant_cache.bump(tenant.pk)
        now = timezone.now()
        # Tags first: their conditions must see the counterparty before the UPDATE below rewrites it.
        for _, match, tag_ids in plan.tag_rules:
            _add_tags(tenant=tenant, queryset=scoped, match=match, tag_ids=tag_ids, now=now)
        field_change = plan.field_change
        if field_change is not None:
            values: dict[str, Any] = {"updated_at": now}
            if plan.category is not None:
                values["category"] = models.Case(
                    models.When(plan.category_change, then=plan.category), default=models.F("category"),
                    output_field=models.UUIDField(),
                )
                values["category_source"] = models.Case(
                    models.When(plan.category_change, then=models.Value(CategorySource.RULE.value)),
                    default=models.F("category_source"), output_field=models.CharField(),
                )
            if plan.counterparty is not None:
                values["counterparty"] = models.Case(
                    models.When(plan.counterparty_change, then=plan.counterparty), default=models.F("counterparty"),
                    output_field=models.CharField(),
                )
            if plan.note is not None:
                values["note"] = models.Case(
                    models.When(plan.note_change, then=plan.note), default=models.F("note"),
                    output_field=models.CharField(),
                )
            scoped.filter(field_change).update(**values)
    return count


def apply_to_import(tenant: Tenant, import_batch_id: uuid.UUID | str) -> int:
    """Apply the tenant's rules to the transactions an import commit just added; returns how many changed.

    Call it inside the commit's transaction, right after the INSERT ... SELECT. Writes one audit entry
    (actor: the system) when something changed.
    """
    batch_id = import_batch_id if isinstance(import_batch_id, uuid.UUID) else uuid.UUID(str(import_batch_id))
    with transaction.atomic(savepoint=False):
        rules = enabled_rules(tenant)
        changed = run(tenant=tenant, scope=Scope(import_batch_id=batch_id), rules=rules) if rules else 0
        if changed:
            audit_services.audit_record(
                tenant=tenant, actor=None, action="rule.apply", object_type="import", object_id=str(batch_id),
                changes={"transactions_changed": [None, changed], "rules": [None, len(rules)]},
            )
    return changed
