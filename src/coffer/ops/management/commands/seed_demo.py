from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coffer.ops import demo


class Command(BaseCommand):
    help = "Load the demo data (once; a second run adds nothing) and print the demo sign-in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=settings.PUBLIC_BASE_URL, help="Where Coffer is served, for the printed sign-in"
        )

    def handle(self, *args, url, **options):
        password = settings.DEMO_PASSWORD
        try:
            summary = demo.demo_seed(password=password)
        except ValueError as exc:
            raise CommandError(f"{exc} (set DEMO_PASSWORD)") from None
        if summary.created:
            self.stdout.write(self.style.SUCCESS(
                f"Demo data loaded: {summary.accounts} accounts and {summary.transactions} transactions "
                f"in the organization '{summary.organization_slug}', plus a personal space."
            ))
        else:
            self.stdout.write(f"Demo data already present ({demo.DEMO_EMAIL} exists); nothing added.")
        url = url.rstrip("/")
        width = max(len(email) for email in summary.people)
        lines = [
            "",
            f"  Coffer:    {url}/",
            f"  API docs:  {url}/api/docs",
            "  Sign in as (every password is the same):",
            *(f"    {email:<{width}}  {role} of {summary.organization_slug}" for email, role in summary.people.items()),
            f"  Password:  {password}",
            "",
        ]
        self.stdout.write("\n".join(lines))
