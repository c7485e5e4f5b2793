from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "coffer.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.conf import settings

        from coffer.ops import logconfig, sql

        sql.install()
        logconfig.init_sentry(dsn=settings.SENTRY_DSN, environment=settings.COFFER_ENV)
