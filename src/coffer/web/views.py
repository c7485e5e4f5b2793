"""Pages about the person rather than a tenant: health, the root redirect, sign-up, new organization."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from coffer import errors
from coffer.tenancy import selectors as tenancy_selectors
from coffer.tenancy import services as tenancy_services
from coffer.web import form_errors, forms_people


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
@require_GET
def home(request):
    """The first of the person's tenants (their personal space sorts first), or a page to make one."""
    memberships, _ = tenancy_selectors.me_memberships(user=request.user)
    if memberships:
        return redirect("web:dashboard", tenant_slug=memberships[0].tenant.slug)
    return render(request, "web/home.html", {"form": forms_people.OrganizationForm()})


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = forms_people.SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = tenancy_services.user_sign_up(**form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            try:
                tenancy_services.email_confirmation_send(user=user)
            except errors.DomainError:
                pass  # the banner on every page offers to send the link again
            return redirect("home")
    status = 422 if form.errors else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request):
    form = forms_people.OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = tenancy_services.organization_create(actor=request.user, **form.cleaned_data)
        except errors.DomainError as exc:
            form_errors.add_domain_errors(form, exc)
        else:
            messages.success(request, f"Organization “{tenant.name}” created.")
            return redirect("web:dashboard", tenant_slug=tenant.slug)
    memberships, _ = tenancy_selectors.me_memberships(user=request.user)
    status = 422 if form.errors else 200
    return render(request, "web/organization_new.html", {"form": form, "memberships": memberships}, status=status)
