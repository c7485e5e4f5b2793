from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from coffer.web import forms, views

# Django's admin app ships its own registration/password_* templates, which would win over ours
# by app order; naming the web app's templates here keeps the admin's look out of these pages.
_reset = [
    path("accounts/password_reset/", auth_views.PasswordResetView.as_view(
        template_name="web/auth/password_reset_form.html", email_template_name="web/auth/password_reset_email.txt",
        subject_template_name="web/auth/password_reset_subject.txt"), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(
        template_name="web/auth/password_reset_done.html"), name="password_reset_done"),
    path("accounts/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="web/auth/password_reset_confirm.html"), name="password_reset_confirm"),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="web/auth/password_reset_complete.html"), name="password_reset_complete"),
]

admin.site.login_form = forms.AdminSignInForm

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=forms.SignInForm), name="login"),
    path("accounts/signup/", views.signup, name="signup"),
    *_reset,
    path("accounts/", include("django.contrib.auth.urls")),
    path("organizations/new/", views.organization_new, name="organization_new"),
    path("", include("coffer.web.urls_person")),
    path("t/<slug:tenant_slug>/", include("coffer.web.urls")),
    path("", views.home, name="home"),
]
