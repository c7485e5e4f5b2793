"""Lines that are not transactions: blank rows, repeated headers, totals and balances."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_KEYWORDS = (
    # English
    "total", "totals", "grand total", "subtotal", "sub total", "closing balance", "opening balance",
    "ending balance", "beginning balance", "starting balance", "final balance", "new balance",
    "previous balance", "balance brought forward", "balance carried forward", "brought forward",
    "carried forward", "balance forward", "end of statement",
    # German
    "endsaldo", "anfangssaldo", "schlusssaldo", "saldo alt", "saldo neu", "alter saldo", "neuer saldo",
    "kontostand", "summe", "gesamt", "gesamtsumme", "umsatzsumme",
    # French
    "solde final", "solde initial", "solde de cloture", "solde d ouverture", "solde au", "nouveau solde",
    "ancien solde", "solde precedent", "total des operations", "totaux",
    # Spanish
    "saldo final", "saldo inicial", "saldo anterior", "saldo al cierre", "saldo de cierre",
    # Dutch
    "totaal", "eindsaldo", "beginsaldo", "nieuw saldo", "oud saldo",
    # Italian
    "saldo finale", "saldo iniziale", "saldo contabile finale", "totale", "saldo al",
)
_PATTERN = re.compile(r"^(?:" + "|".join(re.escape(k) for k in sorted(_KEYWORDS, key=len, reverse=True))
                      + r")(?![a-z])")
_MAX_WORDS = 6
# Words a strict summary cell may add after its keyword ("Total debits", "Solde final au 31/03").
_QUALIFIERS = {
    "debits", "credits", "debit", "credit", "in", "out", "payments", "deposits", "withdrawals", "transactions",
    "amount", "amounts", "of", "for", "the", "period", "month", "at", "on", "as", "per", "au", "du", "de", "la",
    "le", "des", "operations", "al", "del", "movimientos", "soll", "haben", "umsatze", "zum", "am", "vom",
    "bij", "af", "op", "dare", "avere", "eur", "usd", "gbp", "chf",
}


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss")).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def is_summary_text(value: Any, *, strict: bool = False) -> bool:
    """'Closing balance', 'Solde final au 31/03' ...; strict: nothing but the words and a date or number."""
    if not isinstance(value, str):
        return False
    text = _normalise(value)
    match = _PATTERN.match(text) if text and len(text.split()) <= _MAX_WORDS else None
    if match is None:
        return False
    rest = set(re.findall(r"[a-z]{2,}", text[match.end():]))
    return not strict or rest <= _QUALIFIERS


def is_summary_row(cells: list[Any], *, has_date: bool, has_amount: bool) -> bool:
    """A total or balance line. Without a date and an amount, its words suffice ("Total debits");
    with an amount but no date, a cell must say nothing else ("Total", "Endsaldo 31.03.2024"), so a
    merchant such as "Total Energies" whose date is missing is reported, not skipped."""
    if has_date and has_amount:
        return False
    strict = has_amount
    return any(is_summary_text(cell, strict=strict) for cell in cells)
