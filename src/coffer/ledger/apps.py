from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "coffer.ledger"
    label = "ledger"
    verbose_name = "Ledger"
