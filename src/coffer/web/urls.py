"""The web app's tenant pages, all under /t/<tenant slug>/."""

from __future__ import annotations

from django.urls import path

from coffer.web import views_accounts, views_tenant, views_transactions

app_name = "web"

urlpatterns = [
    path("", views_tenant.dashboard, name="dashboard"),
    path("organization/", views_tenant.organization, name="organization"),
    path("accounts/", views_accounts.account_list, name="account_list"),
    path("accounts/new/", views_accounts.account_create, name="account_create"),
    path("accounts/<str:account_id>/", views_accounts.account_detail, name="account_detail"),
    path("accounts/<str:account_id>/edit/", views_accounts.account_edit, name="account_edit"),
    path("accounts/<str:account_id>/archive/", views_accounts.account_archive, name="account_archive"),
    path("transactions/", views_transactions.transaction_list, name="transaction_list"),
    path("transactions/new/", views_transactions.transaction_create, name="transaction_create"),
    path("transactions/<str:transaction_id>/row/", views_transactions.transaction_row, name="transaction_row"),
    path("transactions/<str:transaction_id>/edit/", views_transactions.transaction_edit, name="transaction_edit"),
    path("transactions/<str:transaction_id>/delete/", views_transactions.transaction_delete, name="transaction_delete"),
]
