from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "coffer.web"
    label = "web"
    verbose_name = "Web app"
