"""The person's own settings, whichever space they are in: profile (name, time zone, date and number
format), password, email confirmation, and personal access tokens for the API.

A new token's secret is on the page that answers its creation and nowhere else: that response is
not stored by the browser (no-store), and only the token's hash stays in the database.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coffer import errors
from coffer.api import selectors as api_selectors
from coffer.api import services as api_services
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.web import form_errors, forms_settings, paging

PREVIEW_AMOUNT = Decimal("-1234.56")


def _page(request, template: str, context: dict, *, status: int = 200):
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    data = request.POST if request.method == "POST" else None
    form = forms_settings.ProfileForm.for_user(request.user, data)
    if request.method == "POST" and form.is_valid():
        try:
            tenancy_services.user_update(user=request.user, changes=form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("settings_profile")
    return _page(request, "web/settings/profile.html", {
        "form": form, "settings_nav": "profile", "preview_date": timezone.localdate(), "preview_amount": PREVIEW_AMOUNT,
    }, status=422 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = forms_settings.PasswordChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            tenancy_services.user_password_change(
                user=request.user, current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # this session stays signed in; others end
            messages.success(request, "Your password is changed. Other devices were signed out.")
            return redirect("settings_profile")
    return _page(request, "web/settings/password.html", {"form": form, "settings_nav": "password"},
                 status=422 if form.errors else 200)


# --- email confirmation ----------------------------------------------------------


@require_GET
def email_confirm(request):
    """The link of the confirmation email; it works signed in or not (the signed token names the person)."""
    try:
        user = tenancy_services.user_email_confirm(token=request.GET.get("token", "")[:500])
    except errors.DomainError as exc:
        status = 404 if isinstance(exc, errors.NotFound) else 410
        return _page(request, "web/settings/email_confirm.html", {"problem": exc.message}, status=status)
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, f"Thank you: {user.email} is confirmed.")
        return redirect("home")
    return _page(request, "web/settings/email_confirm.html", {"confirmed": user.email})


@login_required
@require_POST
def email_confirm_resend(request):
    try:
        tenancy_services.email_confirmation_send(user=request.user)
    except errors.DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"We sent a new confirmation link to {request.user.email}.")
    return redirect(_back(request))


def _back(request) -> str:
    """Where a small form posted from (same site only), else the profile."""
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if safe and target.startswith("/") else "/settings/"


# --- personal access tokens --------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    memberships, _ = tenancy_selectors.me_memberships(user=request.user)
    data = request.POST if request.method == "POST" else None
    form = forms_settings.TokenForm(data, memberships=memberships)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = api_services.pat_create(
                user=request.user, tenant_ref=form.cleaned_data["tenant"], name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"], expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except errors.NotFound:
            form.add_error("tenant", "You are not in this space.")
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            form = forms_settings.TokenForm(memberships=memberships)
    try:
        after = paging.after(request, size=2)
        tokens, next_key = api_selectors.pat_page(user=request.user, limit=paging.PAGE_SIZE, after=after)
    except (paging.BadCursor, errors.ValidationError):
        return HttpResponseBadRequest("Not a cursor from this page.")
    context = {
        "form": form, "tokens": tokens, "created": created, "secret": secret, "settings_nav": "tokens",
        "more_url": paging.more_url(request.path, request.GET, next_key),
    }
    if request.htmx and after is not None:
        return render(request, "web/settings/partials/token_rows.html", context)
    response = _page(request, "web/settings/tokens.html", context, status=422 if form.errors else 200)
    if secret:
        add_never_cache_headers(response)  # the secret must not come back from any cache
    return response


@login_required
@require_POST
def token_revoke(request, token_id):
    try:
        api_services.pat_revoke(user=request.user, token_id=token_id)
    except errors.NotFound:
        raise Http404("No such token") from None
    messages.success(request, "The token is revoked; programs using it are refused from now on.")
    return redirect("settings_tokens")
