"""The notice an admin reads before turning the LLM review on: exactly what leaves the server.

Its VERSION is what the admin accepts; a change to what is sent is a new version, and the
review must be accepted again (services.settings_update checks it).
"""

from __future__ import annotations

from django.conf import settings

from coffer.quality.review import prompt, sample

VERSION = "1"


def text() -> str:
    where = {
        "anthropic": "Anthropic (api.anthropic.com)" if not settings.LLM_BASE_URL else f"the Anthropic API at {settings.LLM_BASE_URL}",
        "openai-compatible": f"the model server at {settings.LLM_BASE_URL or '(not set)'}",
    }.get(settings.LLM_PROVIDER, "the configured model provider (none is configured yet)")
    return (
        f"When a member starts an AI review of a sheet, Coffer sends to {where}, model "
        f"{settings.LLM_MODEL or '(not set)'}: "
        "(1) the sheet's column profile: column letters and header names, each column's type, how many values "
        "are blank or distinct, its smallest and largest values and its five most common values; "
        "(2) the deterministic findings of the sheet (rule, row, column, message and value), at most "
        f"{prompt.MAX_FINDINGS}; "
        f"(3) a sample of at most {sample.STRATA + sample.FINDING_ROWS} rows spread across the whole sheet, "
        f"including rows with findings, at most {prompt.MAX_COLUMNS} columns and {prompt.MAX_CELL_CHARS} "
        "characters a cell. "
        "Before sending, e-mail addresses, IBANs, card numbers, phone numbers, account numbers and other long "
        "digit runs are replaced by placeholders such as <email> and <iban>, everywhere in what is sent. "
        "The file name, the rest of the file, your accounts and transactions, and people's names in Coffer are "
        "never sent. The same question (same file content, sheet, prompt version and model) is answered from "
        "Coffer's cache and not sent again. Each review's tokens and cost are recorded; reviews stop for the "
        "month when the tenant's spend cap is reached."
    )
