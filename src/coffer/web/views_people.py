"""A tenant's people: members with their roles (change, remove, leave, hand over ownership) and
invitations (invite, list, revoke). Every member sees who is in; admins and owners manage.

Each row only offers what the viewer's role may do there, and tenancy.services refuses the rest
(admins never touch owners; an organization always keeps an owner). Row actions work over HTMX
(the row is swapped in place, with the service's message next to its form) and as plain forms.
"""

from __future__ import annotations

import dataclasses

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.tenancy import roles
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.tenancy.models import Membership
from coffer.tenancy.roles import Role
from coffer.web import access, form_errors, forms_people, paging


@dataclasses.dataclass
class MemberRow:
    """One member as the viewer sees them: what they may do to this row, and the last refusal."""

    membership: Membership
    is_self: bool
    can_change_role: bool
    can_remove: bool
    can_transfer: bool
    error: str = ""


def _row(request, membership: Membership, error: str = "") -> MemberRow:
    page: access.TenantPage = request.coffer
    is_self = membership.user_id == request.user.pk
    manages = (page.allows(roles.Action.MANAGE_MEMBERS) and not page.tenant.is_personal
               and (page.role == Role.OWNER or membership.role != Role.OWNER))
    return MemberRow(
        membership=membership, is_self=is_self, can_change_role=manages, can_remove=manages and not is_self,
        can_transfer=page.allows(roles.Action.MANAGE_TENANT) and not page.tenant.is_personal and not is_self,
        error=error,
    )


def _context(request, tenant) -> dict:
    return {"nav": "organization", "subnav": "members", "role_choices": forms_people.assignable_roles(request.coffer.role),
            "list_url": reverse("web:member_list", kwargs={"tenant_slug": tenant.slug})}


def _member_page(request, tenant, *, errors_by_id: dict | None = None, leave_error: str = "", status: int = 200):
    """The members page; after a refused action, with the service's message next to that row's form."""
    errors_by_id = errors_by_id or {}
    try:
        after = paging.after(request, size=2)
        members, next_key = tenancy_selectors.member_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    context = _context(request, tenant)
    shown = {m.pk for m in members}
    context.update({
        "rows": [_row(request, m, errors_by_id.get(m.pk, "")) for m in members], "leave_error": leave_error,
        "other_errors": [message for pk, message in errors_by_id.items() if pk not in shown],
        "more_url": paging.more_url(context["list_url"], request.GET, next_key),
    })
    if request.htmx and after is not None:
        return render(request, "web/people/partials/member_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/people/members.html", context, status=status)


def _row_response(request, tenant, membership, *, error: str = "", status: int = 200):
    context = {"coffer": request.coffer, "row": _row(request, membership, error), **_context(request, tenant)}
    return render(request, "web/people/partials/member_row.html", context, status=status)


@require_GET
@access.tenant_view()
def member_list(request, tenant):
    return _member_page(request, tenant)


def _refused(request, tenant, membership, message: str):
    if request.htmx:
        return _row_response(request, tenant, membership, error=message, status=422)
    return _member_page(request, tenant, errors_by_id={membership.pk: message}, status=422)


@require_POST
@access.tenant_view(roles.Action.MANAGE_MEMBERS)
def member_role(request, tenant, membership_id):
    membership = tenancy_selectors.member_get(tenant=tenant, membership_id=membership_id)
    form = forms_people.MemberRoleForm(request.POST, actor_role=request.coffer.role)
    if not form.is_valid():
        return _refused(request, tenant, membership, form.errors["role"][0])
    try:
        membership = tenancy_services.membership_update(
            tenant=tenant, actor=request.user, membership_id=membership.pk, role=form.cleaned_data["role"]
        )
    except (errors.ValidationError, errors.Conflict) as exc:
        return _refused(request, tenant, membership, exc.message)
    name = membership.user.name or membership.user.email
    if request.htmx and membership.user_id != request.user.pk:
        return _row_response(request, tenant, membership)
    messages.success(request, f"{name} is now {membership.get_role_display().lower()}.")
    return _after_own_change(request, tenant)


def _after_own_change(request, tenant):
    """After a change to the viewer's own membership the whole page (their powers) changes."""
    url = reverse("web:member_list", kwargs={"tenant_slug": tenant.slug})
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return redirect(url)


@require_POST
@access.tenant_view(roles.Action.MANAGE_MEMBERS)
def member_remove(request, tenant, membership_id):
    membership = tenancy_selectors.member_get(tenant=tenant, membership_id=membership_id)
    if membership.user_id == request.user.pk:
        return _refused(request, tenant, membership, "Use “Leave organization” to leave.")
    try:
        tenancy_services.membership_remove(tenant=tenant, actor=request.user, membership_id=membership.pk)
    except (errors.ValidationError, errors.Conflict) as exc:
        return _refused(request, tenant, membership, exc.message)
    if request.htmx:
        return HttpResponse("")  # the row is swapped out for nothing
    messages.success(request, f"{membership.user.name or membership.user.email} was removed from {tenant.name}.")
    return redirect("web:member_list", tenant_slug=tenant.slug)


@require_POST
@access.tenant_view()
def member_leave(request, tenant):
    try:
        tenancy_services.membership_remove(tenant=tenant, actor=request.user, membership_id=request.coffer.membership.pk)
    except (errors.ValidationError, errors.Conflict) as exc:
        return _member_page(request, tenant, leave_error=exc.message, status=422)
    messages.success(request, f"You left {tenant.name}.")
    return redirect("home")


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_TENANT)
def member_transfer(request, tenant, membership_id):
    """Hand the organization to another member: they become owner, the owner becomes admin."""
    membership = tenancy_selectors.member_get(tenant=tenant, membership_id=membership_id)
    form = forms_people.OwnershipTransferForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            tenancy_services.ownership_transfer(tenant=tenant, actor=request.user, user_id=membership.user_id)
        except errors.DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"{membership.user.name or membership.user.email} now owns {tenant.name}; "
                                      "you are an admin.")
            return redirect("web:member_list", tenant_slug=tenant.slug)
    return access.page(request, "web/people/transfer.html", {
        "form": form, "target": membership, "nav": "organization", "subnav": "members",
    }, status=422 if form.errors else 200)


# --- invitations -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@access.tenant_view(roles.Action.MANAGE_MEMBERS)
def invitation_list(request, tenant):
    data = request.POST if request.method == "POST" else None
    form = forms_people.InvitationForm(data, actor_role=request.coffer.role)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = tenancy_services.invitation_create(tenant=tenant, actor=request.user, **form.cleaned_data)
        except errors.PermissionDenied as exc:
            form.add_error("role", exc.message)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("web:invitation_list", tenant_slug=tenant.slug)
    try:
        after = paging.after(request, size=2)
        invitations, next_key = tenancy_selectors.invitation_page(tenant=tenant, limit=paging.PAGE_SIZE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    now = timezone.now()
    list_url = reverse("web:invitation_list", kwargs={"tenant_slug": tenant.slug})
    context = {
        "form": form, "nav": "organization", "subnav": "invitations",
        "invitations": [(i, tenancy_selectors.invitation_status(i, now=now)) for i in invitations],
        "more_url": paging.more_url(list_url, request.GET, next_key),
    }
    if request.htmx and after is not None:
        return render(request, "web/people/partials/invitation_rows.html", {"coffer": request.coffer, **context})
    return access.page(request, "web/people/invitations.html", context, status=422 if form.errors else 200)


@require_POST
@access.tenant_view(roles.Action.MANAGE_MEMBERS)
def invitation_revoke(request, tenant, invitation_id):
    try:
        invitation = tenancy_services.invitation_revoke(tenant=tenant, actor=request.user, invitation_id=invitation_id)
    except errors.Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation to {invitation.email} is revoked.")
    return redirect("web:invitation_list", tenant_slug=tenant.slug)
