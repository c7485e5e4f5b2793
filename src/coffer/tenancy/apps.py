from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "coffer.tenancy"
    label = "tenancy"
    verbose_name = "People and organizations"
