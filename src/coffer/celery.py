"""The Celery app: configured from Django settings (CELERY_* names).

Workers: `celery -A coffer.celery worker -l info` with DJANGO_SETTINGS_MODULE=coffer.settings.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffer.settings")

app = Celery("coffer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["coffer.imports", "coffer.quality"])
