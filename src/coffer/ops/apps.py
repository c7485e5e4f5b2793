from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "coffer.ops"
    label = "ops"
    verbose_name = "Operations"
