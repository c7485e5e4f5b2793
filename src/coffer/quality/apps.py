from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "coffer.quality"
    label = "quality"
    verbose_name = "Data quality"
    default_auto_field = "django.db.models.BigAutoField"
