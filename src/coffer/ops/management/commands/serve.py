import os
from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coffer.ops import metrics


class Command(BaseCommand):
    help = "Serve Coffer (API and web) with uvicorn, a production-grade ASGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--reload", action="store_true", help="Restart on code changes (development)")

    def handle(self, *args, host, port, workers, reload, **options):
        if workers > 1 and not reload and "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
            # Each worker would cache in its own memory, and a write in one would not drop what the others
            # hold: a removed member could keep their access there for minutes (ops/tenant_cache.py).
            raise CommandError("--workers above 1 needs a cache the workers share: set REDIS_URL or MEMCACHED_URL")
        if workers > 1 and not reload:
            self._share_metrics_between_workers()
            # glibc gives each thread that allocates its own malloc arena and keeps what it freed there:
            # with a thread per request, a worker's memory grows by hundreds of MB it never returns.
            # And after the first large block is freed glibc raises its mmap threshold to that size, so
            # later ones (Argon2's 19 MiB per sign-in) come from an arena and stay: fixed at 128 KiB,
            # large blocks go back to the system when freed. Worker processes start fresh, so they read
            # these (an operator's own values win).
            os.environ.setdefault("MALLOC_ARENA_MAX", "2")
            os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(128 * 1024))
        self.stdout.write(f"Coffer on http://{host}:{port}/ (API docs at /api/docs), {workers} worker(s)")
        uvicorn.run(
            "coffer.asgi:application",
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            proxy_headers=settings.SECURE_PROXY_SSL_HEADER is not None,
            lifespan="on",
            access_log=False,  # coffer.access writes one line per request, with its request id
            log_config=None,  # uvicorn's lines go through Coffer's logging (JSON in production)
        )

    def _share_metrics_between_workers(self) -> None:
        """Workers are separate processes: prometheus_client sums their samples from files in one
        directory, which must start empty. Set PROMETHEUS_MULTIPROC_DIR to choose it."""
        directory = metrics.multiprocess_dir()
        if directory is None:
            directory = str(settings.VAR_DIR / "prometheus")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        os.makedirs(directory, exist_ok=True)
        for stale in Path(directory).glob("*.db"):  # samples of an earlier run
            stale.unlink(missing_ok=True)
