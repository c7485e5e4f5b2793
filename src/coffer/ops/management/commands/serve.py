import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Coffer (API and web) with uvicorn, a production-grade ASGI server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument("--reload", action="store_true", help="Restart on code changes (development)")

    def handle(self, *args, host, port, workers, reload, **options):
        self.stdout.write(f"Coffer on http://{host}:{port}/ (API docs at /api/docs), {workers} worker(s)")
        uvicorn.run(
            "coffer.asgi:application",
            host=host,
            port=port,
            workers=None if reload else workers,
            reload=reload,
            proxy_headers=settings.SECURE_PROXY_SSL_HEADER is not None,
            lifespan="on",
            access_log=settings.DEBUG,
        )
