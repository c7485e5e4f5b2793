from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "coffer.tenancy"
    label = "tenancy"
    verbose_name = "People and organizations"

    def ready(self) -> None:
        from coffer.tenancy import access_cache

        access_cache.connect()
