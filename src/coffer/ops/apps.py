from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "coffer.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django.conf import settings

        from coffer.ops import logconfig, sql, tenant_cache

        sql.install()
        tenant_cache.connect()
        logconfig.init_sentry(dsn=settings.SENTRY_DSN, environment=settings.COFFER_ENV)
