"""An organization's own settings (name and base currency for admins; deletion for owners) and its
audit trail (admins and owners): newest first, "load more" by keyset, filters in the query string."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from coffer import errors
from coffer.audit import selectors as audit_selectors
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.web import access, form_errors, formatting, forms_people, paging

ACTOR_CHOICES = 100  # members offered in the "who" filter


def _readable(value):
    """Audit values are JSON; dates and times (ISO strings) are shown in the person's zone and format."""
    if isinstance(value, str) and 10 <= len(value) <= 32 and value[:4].isdigit() and value[4:5] == "-":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if len(value) == 10:
            return formatting.day(moment.date())
        return formatting.moment(timezone.localtime(moment)) if timezone.is_aware(moment) else formatting.moment(moment)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _changes(entry) -> list[tuple[str, object, object]]:
    """(field, before, after) for each field the entry records, in a stable order."""
    rows = []
    for field, pair in sorted((entry.changes or {}).items()):
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        rows.append((field.replace("_", " "), _readable(before), _readable(after)))
    return rows


@require_GET
@access.tenant_view(roles.Action.READ_AUDIT)
def audit_list(request, tenant):
    members, _ = tenancy_selectors.member_page(tenant=tenant, limit=ACTOR_CHOICES)
    form = forms_people.AuditFilterForm(request.GET, members=members)
    entries, next_key = [], None
    if form.is_valid():
        try:
            after = paging.after(request, size=2)
            entries, next_key = audit_selectors.audit_page(
                tenant=tenant, limit=paging.PAGE_SIZE, after=after, **form.selector_filters()
            )
        except (paging.BadCursor, errors.ValidationError):
            return HttpResponseBadRequest("Not a cursor from this page.")
    context = {
        "form": form, "entries": [(entry, _changes(entry)) for entry in entries], "nav": "organization",
        "subnav": "audit", "more_url": paging.more_url(request.path, request.GET, next_key),
        "filtered": any(request.GET.get(name) for name in form.fields),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "web/people/partials/audit_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/people/audit.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.UPDATE_TENANT)
def organization_settings(request, tenant):
    form = forms_people.OrganizationForm(request.POST if request.method == "POST" else None,
                                         initial={"name": tenant.name, "base_currency": tenant.base_currency})
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenancy_services.tenant_update(tenant=tenant, actor=request.user, changes=form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"“{tenant.name}” is saved.")
            return redirect("web:organization", tenant_slug=tenant.slug)
    delete_form = forms_people.OrganizationDeleteForm(tenant_name=tenant.name)
    return access.page(request, "web/people/organization_settings.html", {
        "form": form, "delete_form": delete_form, "nav": "organization", "subnav": "settings",
    }, status=422 if form.errors else 200)


@require_http_methods(["POST"])
@access.tenant_view(roles.Action.MANAGE_TENANT)
def organization_delete(request, tenant):
    delete_form = forms_people.OrganizationDeleteForm(request.POST, tenant_name=tenant.name)
    if delete_form.is_valid():
        try:
            tenancy_services.tenant_delete(tenant=tenant, actor=request.user)
        except errors.Conflict as exc:
            delete_form.add_error(None, exc.message)
        else:
            messages.success(request, f"“{tenant.name}” and all its data are deleted.")
            return redirect("home")
    form = forms_people.OrganizationForm(initial={"name": tenant.name, "base_currency": tenant.base_currency})
    return access.page(request, "web/people/organization_settings.html", {
        "form": form, "delete_form": delete_form, "nav": "organization", "subnav": "settings",
    }, status=422)
