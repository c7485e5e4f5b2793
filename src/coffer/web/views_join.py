"""The page behind an invitation email's link (tenancy.emails.INVITATION_PATH).

A signed-in person whose email the invitation names joins with one click; someone without an account
signs up on the spot (name and password; the email is the invitation's) and lands in the
organization; someone with an account is asked to sign in first. A link that is unknown, used,
revoked or expired says so plainly.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from coffer import errors
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.web import form_errors, forms_people

TOKEN_MAX_LENGTH = 200

_CLOSED = {
    "accepted": "This invitation has already been used.",
    "revoked": "This invitation was revoked.",
    "expired": "This invitation has expired.",
}


def _page(request, context: dict, *, status: int = 200):
    return render(request, "web/people/accept.html", context, status=status)


@require_http_methods(["GET", "POST"])
def invitation_accept(request):
    token = (request.POST.get("token") if request.method == "POST" else request.GET.get("token")) or ""
    token = token[:TOKEN_MAX_LENGTH]
    try:
        invitation = tenancy_selectors.invitation_for_token(token=token)
    except errors.NotFound as exc:
        return _page(request, {"problem": exc.message, "hint": "Check that you opened the whole link from the email."},
                     status=404)
    inviter = (invitation.invited_by.name or invitation.invited_by.email) if invitation.invited_by else "an admin"
    context = {"invitation": invitation, "tenant": invitation.tenant, "token": token, "inviter": inviter}
    status = tenancy_selectors.invitation_status(invitation)
    if status != "open":
        return _page(request, {**context, "problem": _CLOSED[status],
                               "hint": f"Ask {inviter} to send you a new invitation."}, status=410)
    if request.user.is_authenticated:
        return _signed_in(request, invitation, context)
    if tenancy_selectors.email_registered(email=invitation.email):
        if request.method == "POST":
            return redirect_to_login(f"{request.path}?{urlencode({'token': token})}")
        return _page(request, {**context, "sign_in": True})
    return _sign_up(request, invitation, context)


def _signed_in(request, invitation, context: dict):
    if request.user.email.lower() != invitation.email.lower():
        return _page(request, {**context, "wrong_person": True}, status=403)
    if request.method == "POST":
        try:
            membership = tenancy_services.invitation_accept(user=request.user, token=context["token"])
        except errors.DomainError as exc:
            return _page(request, {**context, "problem": exc.message}, status=409)
        messages.success(request, f"Welcome to {membership.tenant.name}.")
        return redirect("web:dashboard", tenant_slug=membership.tenant.slug)
    return _page(request, {**context, "join": True})


def _sign_up(request, invitation, context: dict):
    form = forms_people.InvitationSignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = tenancy_services.invitation_accept_new(token=context["token"], **form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {membership.tenant.name}.")
            return redirect("web:dashboard", tenant_slug=membership.tenant.slug)
    return _page(request, {**context, "form": form}, status=422 if form.errors else 200)
