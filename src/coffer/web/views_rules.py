"""Categorization rules (list in order, create, edit, enable, move, delete, preview then apply) and category
suggestions for uncategorized transactions (accept one, or every one shown).

Everyone reads and previews; admins and owners manage rules (roles.Action.MANAGE_RULES); members and above
accept suggestions (WRITE_TRANSACTIONS), as in the API. Every change goes through ledger.rule_services.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.ledger import rule_selectors, rule_services
from coffer.ledger import rules as ledger_rules
from coffer.ledger import selectors as ledger_selectors
from coffer.tenancy import roles
from coffer.web import access, form_errors, formatting, forms_ledger, forms_rules, paging

MANAGE = roles.Action.MANAGE_RULES
ACCEPT = roles.Action.WRITE_TRANSACTIONS
ACCOUNT_CHOICES = 100
SUGGESTION_PAGE = 25


def _posted(request):
    return request.POST if request.method == "POST" else None


def _list_url(tenant) -> str:
    return reverse("web:rule_list", kwargs={"tenant_slug": tenant.slug})


def _categories(tenant) -> forms_ledger.CategoryIndex:
    return forms_ledger.CategoryIndex(ledger_selectors.category_tree(tenant=tenant, include_archived=True))


def _accounts(tenant) -> list:
    accounts, _ = ledger_selectors.account_page(tenant=tenant, limit=ACCOUNT_CHOICES, include_archived=True)
    return accounts


def _plural(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"


def _describe(rule, *, categories: forms_ledger.CategoryIndex, accounts: dict) -> None:
    """Give a rule readable `when` and `then` lists for the list page (no query: tags are prefetched)."""
    when = []
    for name in forms_rules.TEXT_FIELDS:
        operator = getattr(rule, f"{name}_operator")
        if operator:
            label = dict(rule._meta.get_field(f"{name}_operator").choices)[operator].lower()
            when.append(f"{name} {label} “{getattr(rule, f'{name}_value')}”")
    low, high = rule.amount_min, rule.amount_max
    if low is not None and low == high:
        when.append(f"amount = {formatting.plain(low)}")
    elif low is not None or high is not None:
        when.append("amount " + " and ".join(
            part for part in (f"≥ {formatting.plain(low)}" if low is not None else "",
                         f"≤ {formatting.plain(high)}" if high is not None else "") if part))
    if rule.amount_sign:
        when.append("money out" if rule.amount_sign == "negative" else "money in")
    if rule.account_id:
        when.append(f"account {accounts.get(rule.account_id, '?')}")
    if rule.booked_from or rule.booked_to:
        when.append(f"booked {rule.booked_from or '…'} – {rule.booked_to or '…'}")
    then = []
    if rule.category_id:
        then.append(f"category {categories.label(rule.category_id)}")
    tags = rule_selectors.rule_tag_names(rule)
    if tags:
        then.append("tags " + ", ".join(tags))
    if rule.set_counterparty:
        then.append(f"counterparty “{rule.set_counterparty}”")
    if rule.set_note:
        then.append("note")
    rule.when, rule.then = when, then


@require_GET
@access.tenant_view()
def rule_list(request, tenant):
    categories = _categories(tenant)
    accounts = {account.pk: account.name for account in _accounts(tenant)}
    rules = rule_selectors.rule_list(tenant=tenant)
    for rule in rules:
        _describe(rule, categories=categories, accounts=accounts)
    return access.page(request, "web/rules/list.html", {
        "rules": rules, "can_manage": request.coffer.allows(MANAGE), "nav": "categories",
        "max_rules": ledger_rules.MAX_RULES_PER_TENANT,
    })


def _form_page(request, tenant, *, form, rule=None):
    return access.page(request, "web/rules/form.html", {"form": form, "rule": rule, "nav": "categories"},
                       status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def rule_create(request, tenant):
    form = forms_rules.RuleForm(_posted(request), accounts=_accounts(tenant), categories=_categories(tenant))
    if request.method == "POST" and form.is_valid():
        try:
            rule = rule_services.rule_create(tenant=tenant, actor=request.user, **form.service_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, forms_rules.service_error(exc))
        else:
            messages.success(request, f"Rule “{rule.name}” created. Preview what it would change, then apply it.")
            return redirect(_list_url(tenant))
    return _form_page(request, tenant, form=form)


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def rule_edit(request, tenant, rule_id):
    rule = rule_selectors.rule_get(tenant=tenant, rule_id=rule_id)
    form = forms_rules.RuleForm.for_rule(rule, rule_selectors.rule_tag_names(rule), accounts=_accounts(tenant),
                                         categories=_categories(tenant), data=_posted(request))
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            rule = rule_services.rule_update(tenant=tenant, actor=request.user, rule_id=rule.pk, changes=fields)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, forms_rules.service_error(exc))
        else:
            messages.success(request, f"Rule “{rule.name}” saved.")
            return redirect(_list_url(tenant))
    return _form_page(request, tenant, form=form, rule=rule)


@require_POST
@access.tenant_view(MANAGE)
def rule_toggle(request, tenant, rule_id):
    """`enabled=1` turns the rule on, `enabled=0` off."""
    rule = rule_selectors.rule_get(tenant=tenant, rule_id=rule_id)
    enable = request.POST.get("enabled") == "1"
    rule_services.rule_update(tenant=tenant, actor=request.user, rule_id=rule.pk, changes={"enabled": enable})
    messages.success(request, f"Rule “{rule.name}” {'enabled' if enable else 'disabled'}.")
    return redirect(_list_url(tenant))


@require_POST
@access.tenant_view(MANAGE)
def rule_move(request, tenant, rule_id):
    """`direction=up` or `down`: swap the rule with its neighbour in the order."""
    rule = rule_selectors.rule_get(tenant=tenant, rule_id=rule_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponseBadRequest("direction is up or down")
    order = [row.pk for row in rule_selectors.rule_list(tenant=tenant)]
    index = order.index(rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        rule_services.rule_reorder(tenant=tenant, actor=request.user, rule_ids=order)
    return redirect(_list_url(tenant) + f"#rule-{rule.pk}")


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def rule_delete(request, tenant, rule_id):
    rule = rule_selectors.rule_get(tenant=tenant, rule_id=rule_id)
    if request.method == "POST":
        rule_services.rule_delete(tenant=tenant, actor=request.user, rule_id=rule.pk)
        messages.success(request, f"Rule “{rule.name}” deleted; what it already changed stays.")
        return redirect(_list_url(tenant))
    return access.page(request, "web/rules/delete.html", {"rule": rule, "nav": "categories"})


@require_POST
@access.tenant_view(MANAGE)
def rule_defaults(request, tenant):
    try:
        created = rule_services.rule_defaults_seed(tenant=tenant, actor=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{_plural(len(created), 'default fee rule')} added." if created
                         else "The default fee rules are already there (or their categories are gone).")
    return redirect(_list_url(tenant))


@require_GET
@access.tenant_view()
def rule_preview(request, tenant):
    """How many past transactions applying the enabled rules now would change, with the newest of them."""
    preview = rule_selectors.rule_preview(tenant=tenant)
    categories = _categories(tenant)
    for item in preview.sample:
        item.old_label = categories.label(item.transaction.category_id) if item.transaction.category_id else ""
        item.new_label = categories.label(item.new_category_id) if item.new_category_id else ""
    return access.page(request, "web/rules/preview.html", {
        "preview": preview, "can_manage": request.coffer.allows(MANAGE), "nav": "categories",
    })


@require_POST
@access.tenant_view(MANAGE)
def rule_apply(request, tenant):
    changed = rule_services.rule_apply(tenant=tenant, actor=request.user)
    messages.success(request, f"Rules applied: {_plural(changed, 'transaction')} changed.")
    return redirect(_list_url(tenant))


# --- suggestions -----------------------------------------------------------------------------------------


def _suggestion_context(request, **context) -> dict:
    return {"coffer": request.coffer, "can_accept": request.coffer.allows(ACCEPT), **context}


@require_GET
@access.tenant_view()
def suggestion_list(request, tenant):
    try:
        after = paging.after(request, size=3)
        items, next_key = rule_selectors.suggestion_page(tenant=tenant, limit=SUGGESTION_PAGE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    list_url = reverse("web:suggestion_list", kwargs={"tenant_slug": tenant.slug})
    context = _suggestion_context(
        request, items=items, more_url=paging.more_url(list_url, request.GET, next_key), nav="categories",
        suggested=sum(1 for item in items if item.category is not None),
    )
    return access.page(request, "web/rules/suggestions.html", context)


@require_POST
@access.tenant_view(ACCEPT)
def suggestion_accept(request, tenant, transaction_id):
    """Accept the suggested category shown (`category` posted), or without it the current suggestion."""
    category_id = request.POST.get("category") or None
    try:
        row = rule_services.suggestion_accept(tenant=tenant, actor=request.user, transaction_id=transaction_id,
                                              category_id=category_id)
    except (errors.Conflict, errors.ValidationError) as exc:
        if request.htmx:
            return render(request, "web/rules/partials/suggestion_done.html",
                          _suggestion_context(request, error=exc.message, transaction_id=transaction_id), status=409)
        messages.error(request, exc.message)
        return redirect("web:suggestion_list", tenant_slug=tenant.slug)
    label = _categories(tenant).label(row.category_id)
    if request.htmx:
        return render(request, "web/rules/partials/suggestion_done.html",
                      _suggestion_context(request, row=row, label=label))
    messages.success(request, f"“{row.description or row.counterparty}” put in {label}.")
    return redirect("web:suggestion_list", tenant_slug=tenant.slug)


@require_POST
@access.tenant_view(ACCEPT)
def suggestion_accept_all(request, tenant):
    """Accept every suggestion the page showed: `accept` repeats "<transaction id>:<category id>"."""
    pairs = request.POST.getlist("accept")[:SUGGESTION_PAGE]
    accepted = skipped = 0
    for pair in pairs:
        transaction_id, _, category_id = pair.partition(":")
        try:
            rule_services.suggestion_accept(tenant=tenant, actor=request.user, transaction_id=transaction_id,
                                            category_id=category_id or None)
        except (errors.Conflict, errors.ValidationError, errors.NotFound):
            skipped += 1
        else:
            accepted += 1
    text = f"{_plural(accepted, 'suggestion')} accepted."
    if skipped:
        text += f" {_plural(skipped, 'transaction')} skipped (already categorized, or gone)."
    messages.success(request, text)
    return redirect("web:suggestion_list", tenant_slug=tenant.slug)
