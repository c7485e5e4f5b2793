from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from coffer.web import forms, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=forms.SignInForm), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", views.home, name="home"),
]
