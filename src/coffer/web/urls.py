"""The web app's tenant pages, all under /t/<tenant slug>/."""

from __future__ import annotations

from django.urls import path

from coffer.web import views_accounts, views_tenant, views_transactions
from coffer.web import views_org, views_people
from coffer.web import views_import_review, views_imports
from coffer.web import views_categories
from coffer.web import views_workbook
from coffer.web import views_budgets, views_reports

app_name = "web"

urlpatterns = [
    path("", views_tenant.dashboard, name="dashboard"),
    path("organization/", views_tenant.organization, name="organization"),
    path("organization/settings/", views_org.organization_settings, name="organization_settings"),
    path("organization/delete/", views_org.organization_delete, name="organization_delete"),
    path("members/", views_people.member_list, name="member_list"),
    path("members/leave/", views_people.member_leave, name="member_leave"),
    path("members/<str:membership_id>/role/", views_people.member_role, name="member_role"),
    path("members/<str:membership_id>/remove/", views_people.member_remove, name="member_remove"),
    path("members/<str:membership_id>/transfer/", views_people.member_transfer, name="member_transfer"),
    path("invitations/", views_people.invitation_list, name="invitation_list"),
    path("invitations/<str:invitation_id>/revoke/", views_people.invitation_revoke, name="invitation_revoke"),
    path("audit/", views_org.audit_list, name="audit_list"),
    path("accounts/", views_accounts.account_list, name="account_list"),
    path("accounts/new/", views_accounts.account_create, name="account_create"),
    path("accounts/<str:account_id>/", views_accounts.account_detail, name="account_detail"),
    path("accounts/<str:account_id>/edit/", views_accounts.account_edit, name="account_edit"),
    path("accounts/<str:account_id>/archive/", views_accounts.account_archive, name="account_archive"),
    path("transactions/", views_transactions.transaction_list, name="transaction_list"),
    path("transactions/new/", views_transactions.transaction_create, name="transaction_create"),
    path("transactions/bulk/", views_transactions.transaction_bulk, name="transaction_bulk"),
    path("transactions/export.csv", views_transactions.transaction_export_csv, name="transaction_export_csv"),
    path("transactions/export.xlsx", views_transactions.transaction_export_xlsx, name="transaction_export_xlsx"),
    path("categories/", views_categories.category_list, name="category_list"),
    path("categories/new/", views_categories.category_create, name="category_create"),
    path("categories/<str:category_id>/edit/", views_categories.category_edit, name="category_edit"),
    path("categories/<str:category_id>/archive/", views_categories.category_archive, name="category_archive"),
    path("categories/<str:category_id>/delete/", views_categories.category_delete, name="category_delete"),
    path("tags/", views_categories.tag_list, name="tag_list"),
    path("tags/new/", views_categories.tag_create, name="tag_create"),
    path("tags/<str:tag_id>/row/", views_categories.tag_row, name="tag_row"),
    path("tags/<str:tag_id>/edit/", views_categories.tag_edit, name="tag_edit"),
    path("tags/<str:tag_id>/delete/", views_categories.tag_delete, name="tag_delete"),
    path("transactions/<str:transaction_id>/row/", views_transactions.transaction_row, name="transaction_row"),
    path("transactions/<str:transaction_id>/edit/", views_transactions.transaction_edit, name="transaction_edit"),
    path("transactions/<str:transaction_id>/delete/", views_transactions.transaction_delete, name="transaction_delete"),
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/new/", views_imports.import_upload, name="import_upload"),
    path("imports/<str:import_id>/", views_imports.import_detail, name="import_detail"),
    path("imports/<str:import_id>/status/", views_imports.import_status, name="import_status"),
    path("imports/<str:import_id>/commit/", views_imports.import_commit, name="import_commit"),
    path("imports/<str:import_id>/undo/", views_imports.import_undo, name="import_undo"),
    path("imports/<str:import_id>/retry/", views_imports.import_retry, name="import_retry"),
    path("imports/<str:import_id>/report.csv", views_imports.import_report_csv, name="import_report_csv"),
    path("imports/<str:import_id>/report.xlsx", views_imports.import_report_xlsx, name="import_report_xlsx"),
    path("imports/<str:import_id>/mapping/", views_import_review.import_mapping, name="import_mapping"),
    path("imports/<str:import_id>/issues/", views_import_review.import_issues, name="import_issues"),
    path("imports/<str:import_id>/rows/bulk/", views_import_review.import_rows_bulk, name="import_rows_bulk"),
    path("imports/<str:import_id>/rows/<int:row_number>/", views_import_review.import_row, name="import_row"),
    path("imports/<str:import_id>/rows/<int:row_number>/edit/", views_import_review.import_row_edit,
         name="import_row_edit"),
    path("imports/<str:import_id>/rows/<int:row_number>/flags/", views_import_review.import_row_flags,
         name="import_row_flags"),
    path("imports/<str:import_id>/workbook/", views_workbook.workbook, name="workbook"),
    path("imports/<str:import_id>/workbook/status/", views_workbook.workbook_status, name="workbook_status"),
    path("imports/<str:import_id>/workbook/reviews/", views_workbook.workbook_review_start,
         name="workbook_review_start"),
    path("imports/<str:import_id>/workbook/reviews/<str:review_id>/", views_workbook.workbook_review,
         name="workbook_review"),
    path("quality/settings/", views_workbook.quality_settings, name="quality_settings"),
    path("budgets/", views_budgets.budget_list, name="budget_list"),
    path("budgets/new/", views_budgets.budget_create, name="budget_create"),
    path("budgets/<str:budget_id>/edit/", views_budgets.budget_edit, name="budget_edit"),
    path("budgets/<str:budget_id>/delete/", views_budgets.budget_delete, name="budget_delete"),
    path("reports/", views_reports.report_page, name="reports"),
    path("reports/<slug:report>.<slug:fmt>", views_reports.report_export, name="report_export"),
    path("transfers/", views_reports.transfer_list, name="transfer_list"),
    path("transfers/detect/", views_reports.transfer_detect, name="transfer_detect"),
    path("transfers/<str:transaction_id>/unlink/", views_reports.transfer_unlink, name="transfer_unlink"),
]
