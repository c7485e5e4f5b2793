"""A tenant's categories (a two-level tree with how many transactions each holds) and tags (paged).

Everyone reads; admins and owners create, rename, move, archive and delete (roles.Action.MANAGE_CATEGORIES,
as in the API). Every change goes through the ledger services; every HTMX endpoint is also a plain page or a
plain POST with a redirect.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.insights import selectors as insights
from coffer.ledger import selectors as ledger_selectors
from coffer.ledger import services as ledger_services
from coffer.tenancy import roles
from coffer.web import access, form_errors, forms_ledger, paging

MANAGE = roles.Action.MANAGE_CATEGORIES


def _posted(request):
    """The POST data of a form page (None on GET: an unbound form)."""
    return request.POST if request.method == "POST" else None


def _can_manage(request) -> bool:
    return request.coffer.allows(MANAGE)


def _categories(tenant) -> forms_ledger.CategoryIndex:
    return forms_ledger.CategoryIndex(ledger_selectors.category_tree(tenant=tenant, include_archived=True))


def _list_url(tenant) -> str:
    return reverse("web:category_list", kwargs={"tenant_slug": tenant.slug})


def _tree_with_counts(tenant, categories: forms_ledger.CategoryIndex, *, show_archived: bool):
    """The tree as the page shows it: each category with `count` (its own transactions) and each top-level
    one with `total` (its own and its subcategories'); archived ones only when asked for."""
    counts = insights.transactions_per_category(tenant=tenant)
    shown = []
    for top in categories.tree:
        top.count = counts.get(top.pk, 0)
        top.shown_subcategories = []
        for sub in top.subcategories:
            sub.count = counts.get(sub.pk, 0)
            if show_archived or not sub.archived:
                top.shown_subcategories.append(sub)
        top.total = top.count + sum(sub.count for sub in top.subcategories)
        if show_archived or not top.archived:
            shown.append(top)
    archived = sum(1 for category in categories.by_id.values() if category.archived)
    return shown, counts.get(None, 0), archived


def _category_page(request, tenant, *, form=None, status: int = 200):
    categories = _categories(tenant)
    show_archived = request.GET.get("archived") == "1"
    tree, uncategorized, archived = _tree_with_counts(tenant, categories, show_archived=show_archived)
    if form is None and _can_manage(request):
        form = forms_ledger.CategoryForm(categories=categories, auto_id="new_%s")
    return access.page(request, "web/categories/list.html", {
        "tree": tree, "uncategorized": uncategorized, "archived_count": archived, "show_archived": show_archived,
        "form": form, "can_manage": _can_manage(request), "nav": "categories", "count": len(categories.by_id),
    }, status=status)


@require_GET
@access.tenant_view()
def category_list(request, tenant):
    return _category_page(request, tenant)


@require_POST
@access.tenant_view(MANAGE)
def category_create(request, tenant):
    categories = _categories(tenant)
    form = forms_ledger.CategoryForm(request.POST, categories=categories, auto_id="new_%s")
    if form.is_valid():
        try:
            category = ledger_services.category_create(tenant=tenant, actor=request.user, **form.create_fields())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, _category_error(exc))
        else:
            messages.success(request, f"Category “{category.name}” created.")
            return redirect(_list_url(tenant))
    return _category_page(request, tenant, form=form, status=422)


def _category_error(exc: errors.DomainError) -> errors.DomainError:
    """The service names `parent_id`; the form calls it `parent`."""
    if "parent_id" in exc.field_errors:
        fields = dict(exc.field_errors)
        fields["parent"] = fields.pop("parent_id")
        return type(exc)(exc.message, field_errors=fields)
    return exc


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def category_edit(request, tenant, category_id):
    category = ledger_selectors.category_get(tenant=tenant, category_id=category_id)
    categories = _categories(tenant)
    form = forms_ledger.CategoryForm(_posted(request), categories=categories, category=category)
    if request.method == "POST" and form.is_valid():
        try:
            category = ledger_services.category_update(tenant=tenant, actor=request.user, category_id=category.pk,
                                                       changes=form.changes())
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, _category_error(exc))
        else:
            messages.success(request, f"Category “{category.name}” saved.")
            return redirect(_list_url(tenant))
    node = categories.by_id.get(category.pk)
    return access.page(request, "web/categories/form.html", {
        "form": form, "category": category, "nav": "categories",
        "has_subcategories": node is not None and node.parent_id is None and bool(node.subcategories),
    }, status=422 if form.errors else 200)


@require_POST
@access.tenant_view(MANAGE)
def category_archive(request, tenant, category_id):
    """`archived=1` archives (no new transactions go in), `archived=0` brings it back."""
    category = ledger_selectors.category_get(tenant=tenant, category_id=category_id)
    archive = request.POST.get("archived") == "1"
    try:
        category = ledger_services.category_update(tenant=tenant, actor=request.user, category_id=category.pk,
                                                   changes={"archived": archive})
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Category “{category.name}” {'archived' if archive else 'restored'}.")
    return redirect(_list_url(tenant) + ("?archived=1" if request.POST.get("show_archived") == "1" else ""))


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def category_delete(request, tenant, category_id):
    """A page that says what deleting does (how many transactions, where they go), then deletes."""
    category = ledger_selectors.category_get(tenant=tenant, category_id=category_id)
    categories = _categories(tenant)
    form = forms_ledger.CategoryDeleteForm(_posted(request), categories=categories, category=category)
    node = categories.by_id.get(category.pk)
    subcategories = node.subcategories if node is not None and node.parent_id is None else []
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data.get("reassign_to") or None
        try:
            moved = ledger_services.category_delete(tenant=tenant, actor=request.user, category_id=category.pk,
                                                    reassign_to=target)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            where = f"moved to “{categories.label(uuid.UUID(target))}”" if target else "left uncategorized"
            things = f"{moved} transaction{'s' if moved != 1 else ''}"
            messages.success(request, f"Category “{category.name}” deleted; {things} {where}.")
            return redirect(_list_url(tenant))
    counts = insights.transactions_per_category(tenant=tenant)
    return access.page(request, "web/categories/delete.html", {
        "form": form, "category": category, "label": categories.label(category.pk), "subcategories": subcategories,
        "count": counts.get(category.pk, 0), "nav": "categories",
    }, status=422 if form.errors else 200)


# --- tags ------------------------------------------------------------------------------


def _tag_context(request, **context) -> dict:
    return {"coffer": request.coffer, "can_manage": _can_manage(request), **context}


def _tag_page(request, tenant, *, form=None, status: int = 200):
    text = (request.GET.get("q") or "").strip()[:50]
    try:
        after = paging.after(request, size=2)
        tags, next_key = ledger_selectors.tag_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after, text=text)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    list_url = reverse("web:tag_list", kwargs={"tenant_slug": tenant.slug})
    context = _tag_context(request, tags=tags, q=text, more_url=paging.more_url(list_url, request.GET, next_key))
    if request.htmx and after is not None:
        return render(request, "web/categories/partials/tag_rows.html", context)
    if form is None and context["can_manage"]:
        form = forms_ledger.TagForm(auto_id="new_tag_%s")
    return access.page(request, "web/categories/tags.html", {**context, "form": form, "nav": "categories"},
                       status=status)


@require_GET
@access.tenant_view()
def tag_list(request, tenant):
    return _tag_page(request, tenant)


@require_POST
@access.tenant_view(MANAGE)
def tag_create(request, tenant):
    form = forms_ledger.TagForm(request.POST, auto_id="new_tag_%s")
    if form.is_valid():
        try:
            tag = ledger_services.tag_create(tenant=tenant, actor=request.user, name=form.cleaned_data["name"])
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Tag “{tag.name}” created.")
            return redirect("web:tag_list", tenant_slug=tenant.slug)
    return _tag_page(request, tenant, form=form, status=422)


@require_GET
@access.tenant_view()
def tag_row(request, tenant, tag_id):
    """One tag's row as the list shows it (what "Cancel" of a rename swaps back in)."""
    tag = ledger_selectors.tag_get(tenant=tenant, tag_id=tag_id)
    return render(request, "web/categories/partials/tag_row.html", _tag_context(request, tag=tag))


@require_http_methods(["GET", "POST"])
@access.tenant_view(MANAGE)
def tag_edit(request, tenant, tag_id):
    tag = ledger_selectors.tag_get(tenant=tenant, tag_id=tag_id)
    form = forms_ledger.TagForm(_posted(request), initial={"name": tag.name}, auto_id=f"tag_{tag.pk}_%s")
    if request.method == "POST" and form.is_valid():
        try:
            tag = ledger_services.tag_update(tenant=tenant, actor=request.user, tag_id=tag.pk,
                                             changes={"name": form.cleaned_data["name"]})
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            if request.htmx:
                return render(request, "web/categories/partials/tag_row.html", _tag_context(request, tag=tag))
            messages.success(request, f"Tag renamed to “{tag.name}”.")
            return redirect("web:tag_list", tenant_slug=tenant.slug)
    status = 422 if form.errors else 200
    if request.htmx:
        return render(request, "web/categories/partials/tag_edit_row.html",
                      _tag_context(request, tag=tag, form=form), status=status)
    return access.page(request, "web/categories/tag_form.html", {"form": form, "tag": tag, "nav": "categories"},
                       status=status)


@require_POST
@access.tenant_view(MANAGE)
def tag_delete(request, tenant, tag_id):
    tag = ledger_selectors.tag_get(tenant=tenant, tag_id=tag_id)
    removed = ledger_services.tag_delete(tenant=tenant, actor=request.user, tag_id=tag.pk)
    if request.htmx:
        return HttpResponse("")
    things = f"{removed} transaction{'s' if removed != 1 else ''}"
    messages.success(request, f"Tag “{tag.name}” deleted; it came off {things}.")
    return redirect("web:tag_list", tenant_slug=tenant.slug)
