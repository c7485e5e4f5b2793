from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coffer.tenancy import selectors as tenancy_selectors


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    memberships = tenancy_selectors.memberships_of_user(user=request.user)[:50]
    return render(request, "web/home.html", {"memberships": memberships})
