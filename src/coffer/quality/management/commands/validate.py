"""`coffer validate FILE [--sheet NAME] [--ai] [--json]`: the data-quality report of any spreadsheet.

Reads the file in this process (nothing is imported, no tenant is involved) and prints one JSON
object with `--json`:

    {"file", "format", "sheet", "sheets": [{"name", "rows", "columns"}], "profile": {...},
     "issues": [{"row", "column", "code", "severity", "message", "value", "source"}],
     "counts": {code: findings}, "review": {...} (with --ai)}

Every rule runs. `--ai` adds the LLM review with the server's LLM_* settings (no tenant, so no
spend cap; answers are cached like any review). Exit 0 when the file was read, whatever it
holds; non-zero with a message on stderr when it cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coffer import errors
from coffer.imports import readers, staging
from coffer.quality import analysis, rowstore


class Command(BaseCommand):
    help = "Check the data quality of a spreadsheet (profile and findings; --ai adds the LLM review)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--sheet", default=None, help="sheet to check (default: the first visible one with data)")
        parser.add_argument("--ai", action="store_true", help="add the LLM review (LLM_* settings)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        limits = readers.ImportLimits.from_settings()
        if path.stat().st_size > limits.max_file_bytes:
            raise CommandError(f"The file is larger than the limit of {limits.max_file_bytes} bytes")
        try:
            workbook = readers.open_workbook(path, limits=limits)
        except errors.DomainError as exc:
            raise CommandError(exc.message) from None
        try:
            with tempfile.TemporaryDirectory(prefix="coffer-validate-") as folder:
                report = self._report(path, workbook, options, Path(folder))
        except errors.DomainError as exc:
            raise CommandError(exc.message) from None
        finally:
            workbook.close()
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, default=str))
        else:
            self.stdout.write(_text(report))

    def _report(self, path: Path, workbook, options, folder: Path) -> dict:
        infos = workbook.sheets
        sheet = _sheet(infos, options["sheet"])
        result = analysis.analyse(workbook, sheet, store=folder)
        issues = [{**staging.issue_dict(item), "source": "rules"} for item in result.findings]
        report = {
            "file": path.name,
            "format": workbook.format,
            "sheet": sheet,
            "sheets": [{"name": info.name, "rows": info.rows, "columns": info.columns} for info in infos],
            "profile": result.profile,
            "issues": issues,
            "counts": {code: sum(columns.values()) for code, columns in result.counts.items()},
        }
        if options["ai"]:
            from coffer.quality.review import runner

            store = rowstore.Store.open(folder, sheet)
            try:
                report["review"] = runner.review_direct(
                    sha256=_sha256(path), sheet=sheet, store=store, profile=result.profile, counts=result.counts,
                    findings=[dict(item) for item in issues],
                )
            except runner.ReviewFailed as exc:
                raise CommandError(exc.message) from None
            report["issues"] = issues + report["review"]["issues"]
        return report


def _sheet(infos, wanted: str | None) -> str | None:
    if len(infos) == 1 and infos[0].name is None:
        if wanted:
            raise CommandError("A CSV file has one unnamed sheet; leave --sheet out")
        return None
    if wanted:
        if wanted not in {info.name for info in infos}:
            names = ", ".join(repr(info.name) for info in infos)
            raise CommandError(f"The file has no sheet named {wanted!r}; its sheets are {names}")
        return wanted
    for info in infos:
        if info.visible and info.rows > 0:
            return info.name
    return infos[0].name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _text(report: dict) -> str:
    lines = [f"{report['file']} ({report['format']}), sheet {report['sheet'] or '(csv)'}: "
             f"{report['profile']['rows']} rows, {len(report['profile']['columns'])} columns, "
             f"{len(report['issues'])} findings listed"]
    for code, count in sorted(report["counts"].items()):
        lines.append(f"  {code}: {count}")
    for item in report["issues"][:50]:
        where = f"{item['column'] or ''}{item['row'] or ''}" or "-"
        lines.append(f"  {where:>8} {item['code']}: {item['message']}")
    if "review" in report:
        review = report["review"]
        lines.append(f"AI review ({review['model']}): {review['status']}, cost {review['cost']}"
                     + (" (cached)" if review["cached"] else ""))
        if review["summary"]:
            lines.append(f"  {review['summary']}")
    return "\n".join(lines)
