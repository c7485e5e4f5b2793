from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "coffer.api"
    label = "api"
    verbose_name = "API clients"
