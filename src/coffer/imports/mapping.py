"""Find the header row and map its columns to transaction fields.

    detection = detect(workbook, sheet)   # or detect_rows(list_of_raw_rows)
    detection.header_row                  # 5 (as the spreadsheet shows it), None without a header
    detection.mapping                     # {"date": 0, "description": 1, "amount": 3, ...} (0 = column A)
    detection.letters                     # {"date": "A", ...}
    detection.confidence                  # overall 0..1; detection.confidences per field
    detection.signature                   # stable hash of the normalised header cells (mapping presets)

The first ~30 rows are scanned; each row is scored by how many of its cells name a known field
(exact synonyms in English, German, French, Spanish, Dutch and Italian, then fuzzy matches)
and by how data-like the rows below it are (a date and an amount). A column's values must
fit its field (dates under a date header, numbers under an amount header). Without a header
the columns are inferred from their values, with low confidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from itertools import islice
from typing import Any

from rapidfuzz import fuzz

from coffer.imports import issues
from coffer.imports.parsing import amounts, dates
from coffer.imports.readers import base

FIELDS = ("date", "value_date", "description", "counterparty", "reference", "amount", "debit", "credit",
          "direction", "balance", "currency", "category")
SCAN_ROWS = 30
_DATA_ROWS = 12

SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "date", "transaction date", "trans date", "booking date", "booked date", "entry date", "posting date",
        "buchungstag", "buchungsdatum", "datum", "buchung", "date operation", "date de l operation",
        "date d operation", "date comptable", "date de comptabilisation", "fecha", "fecha operacion",
        "fecha de operacion", "fecha contable", "f operacion", "data", "data operazione", "data contabile",
        "data registrazione", "data movimento", "boekdatum", "boekingsdatum", "transactiedatum",
    ),
    "value_date": (
        "value date", "valuta", "valutadatum", "valuta datum", "wertstellung", "wertstellungsdatum", "wert",
        "date de valeur", "date valeur", "fecha valor", "fecha de valor", "f valor", "data valuta",
        "rentedatum", "post date", "posted date", "posted", "settlement date",
    ),
    "description": (
        "description", "details", "transaction details", "memo", "narrative", "narration", "particulars",
        "transaction description", "text", "verwendungszweck", "buchungstext", "beschreibung", "vorgang",
        "libelle", "libelle operation", "libelle de l operation", "detail", "concepto", "descripcion",
        "detalle", "omschrijving", "mededelingen", "descrizione", "causale", "descrizione operazione",
    ),
    "counterparty": (
        "counterparty", "payee", "payer", "payee name", "beneficiary", "merchant", "name",
        "auftraggeber empfanger", "auftraggeber", "empfanger", "beguenstigter", "begunstigter",
        "zahlungsempfanger", "auftraggeber beguenstigter", "name zahlungsbeteiligter", "zahlungspflichtiger",
        "tiers", "beneficiaire", "contrepartie", "destinataire", "emetteur", "beneficiario", "ordenante",
        "contraparte", "naam", "tegenpartij", "naam tegenpartij", "tegenrekening naam", "controparte",
    ),
    "reference": (
        "reference", "ref", "transaction id", "transaction reference", "reference number", "check number",
        "cheque number", "referenz", "kundenreferenz", "belegnummer", "reference operation", "numero",
        "n operation", "referencia", "n referencia", "numero de referencia", "referentie", "kenmerk",
        "betalingskenmerk", "riferimento", "numero operazione", "id",
    ),
    "amount": (
        "amount", "value", "transaction amount", "sum", "betrag", "umsatz", "buchungsbetrag", "montant",
        "montant operation", "importe", "monto", "cantidad", "bedrag", "importo", "importo operazione",
    ),
    "debit": (
        "debit", "debits", "debit amount", "withdrawal", "withdrawals", "paid out", "money out", "out",
        "outflow", "charges", "soll", "belastung", "ausgang", "ausgaben", "retrait", "debit euros", "cargo",
        "cargos", "debe", "af", "afschrijving", "dare", "uscite", "addebiti", "addebito",
    ),
    "credit": (
        "credit", "credits", "credit amount", "deposit", "deposits", "paid in", "money in", "in", "inflow",
        "haben", "gutschrift", "eingang", "einnahmen", "credit euros", "abono", "abonos", "haber", "ingreso",
        "ingresos", "bij", "bijschrijving", "avere", "entrate", "accrediti", "accredito",
    ),
    "direction": ("af bij", "debit credit", "credit debit", "dr cr", "cr dr", "d c", "s h", "soll haben",
                  "sens", "type debit credit"),
    "balance": (
        "balance", "running balance", "account balance", "closing balance", "saldo", "kontostand",
        "saldo nach buchung", "solde", "nouveau solde", "saldo contable", "saldo disponible", "balans",
        "saldo na mutatie", "saldo contabile", "saldo disponibile",
    ),
    "currency": ("currency", "ccy", "curr", "currency code", "wahrung", "waehrung", "devise", "monnaie", "moneda",
                 "divisa", "valuta", "munt"),
    "category": ("category", "categories", "kategorie", "categorie", "categoria", "rubrique", "class"),
}
_EXACT = {phrase: field for field, phrases in SYNONYMS.items() for phrase in phrases if phrase != "valuta"}
_ALL_PHRASES = [(phrase, field) for field, phrases in SYNONYMS.items() for phrase in phrases]
_DATE_FIELDS = {"date", "value_date"}
_NUMBER_FIELDS = {"amount", "debit", "credit", "balance"}
_UNITS = re.compile(r"\([^)]*\)|\[[^\]]*\]|[€$£¥]|\b(?:eur|usd|gbp|chf|in eur|en eur|en euros?|euros?)\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_header(value: Any) -> str:
    """'Betrag (EUR)' -> 'betrag'; 'Date opération' -> 'date operation'; case, accents, units dropped."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKD", str(value).replace("ß", "ss")).lower()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = _UNITS.sub(" ", text)
    return _NON_WORD.sub(" ", text).strip()


def field_scores(header: str) -> dict[str, float]:
    """How well one normalised header names each field (0..1), best evidence per field."""
    scores: dict[str, float] = {}
    if not header:
        return scores
    tokens = f" {header} "
    for phrase, field in _ALL_PHRASES:
        if header == phrase:
            score = 1.0
        elif f" {phrase} " in tokens and len(phrase) >= 3:
            score = 0.7 + 0.2 * len(phrase) / len(header)
        else:
            ratio = fuzz.ratio(header, phrase) if len(phrase) >= 4 and len(header) >= 4 else 0
            score = 0.85 * ratio / 100 if ratio >= 86 else 0.0
        if score > scores.get(field, 0.0):
            scores[field] = score
    return scores


@dataclasses.dataclass(frozen=True)
class Detection:
    header_row: int | None
    mapping: dict[str, int]
    confidence: float
    confidences: dict[str, float]
    signature: str
    score: float = 0.0  # how table-like the sheet is, for choosing among sheets
    headers: tuple[str, ...] = ()

    @property
    def letters(self) -> dict[str, str]:
        return {field: issues.column_letter(index) for field, index in self.mapping.items()}


def detect(workbook: base.Workbook, sheet: str | None) -> Detection:
    """Detection over the first rows of one sheet (reads only those rows)."""
    rows = workbook.iter_rows(sheet)
    try:
        head = list(islice(rows, SCAN_ROWS + _DATA_ROWS))
    finally:
        close = getattr(rows, "close", None)
        if close:
            close()
    return detect_rows(head)


def detect_rows(rows: list[base.RawRow]) -> Detection:
    best: Detection | None = None
    for position, row in enumerate(rows[:SCAN_ROWS]):
        candidate = _header_candidate(row, rows[position + 1:position + 1 + _DATA_ROWS])
        if candidate is not None and (best is None or candidate.score > best.score):
            best = candidate
    return best if best is not None else infer_without_header(rows)


def _header_candidate(row: base.RawRow, below: list[base.RawRow]) -> Detection | None:
    texts = [cell for cell in row.cells if cell is not None]
    if len(texts) < 2 or any(not isinstance(cell, str) for cell in texts):
        return None
    data = [r for r in below if not r.is_blank()]
    mapping, confidences = assign(row.cells, data)
    if len(mapping) < 2 or not ({"date", "amount", "debit", "credit", "balance"} & set(mapping)):
        return None
    data_like = sum(1 for r in data[:5] if _is_data_row(r)) / max(len(data[:5]), 1)
    score = sum(confidences.values()) * (0.4 + 0.6 * data_like)
    headers = tuple(normalise_header(cell) for cell in row.cells)
    return Detection(
        header_row=row.number,
        mapping=mapping,
        confidence=round(_overall(mapping, confidences) * (0.5 + 0.5 * data_like), 3),
        confidences=confidences,
        signature=signature(headers),
        score=round(score, 4),
        headers=tuple("" if cell is None else str(cell) for cell in row.cells),
    )


def assign(header_cells: list[Any], data: list[base.RawRow]) -> tuple[dict[str, int], dict[str, float]]:
    """Greedy best-first assignment: each field to at most one column and each column to one field."""
    candidates: list[tuple[float, str, int]] = []
    for index, cell in enumerate(header_cells):
        profile = _profile([r.cells[index] if index < len(r.cells) else None for r in data])
        for field, score in field_scores(normalise_header(cell)).items():
            fitted = score * _fit(field, profile)
            if fitted >= 0.6:
                candidates.append((fitted, field, index))
    mapping: dict[str, int] = {}
    confidences: dict[str, float] = {}
    used: set[int] = set()
    for score, field, index in sorted(candidates, key=lambda c: (-c[0], c[2])):
        if field in mapping or index in used:
            continue
        mapping[field], confidences[field] = index, round(score, 3)
        used.add(index)
    if "date" not in mapping and "value_date" in mapping:
        mapping["date"], confidences["date"] = mapping.pop("value_date"), confidences.pop("value_date")
    if "amount" in mapping and ("debit" in mapping) != ("credit" in mapping):
        for lone in ("debit", "credit"):
            mapping.pop(lone, None), confidences.pop(lone, None)
    if "amount" not in mapping and ("debit" in mapping) != ("credit" in mapping):
        lone = "debit" if "debit" in mapping else "credit"
        mapping["amount"], confidences["amount"] = mapping.pop(lone), confidences.pop(lone) * 0.8
    if "amount" in mapping and "debit" in mapping and "credit" in mapping:
        # Both layouts found: keep whichever scored better.
        if confidences["amount"] >= min(confidences["debit"], confidences["credit"]):
            for f in ("debit", "credit"):
                mapping.pop(f), confidences.pop(f)
        else:
            mapping.pop("amount"), confidences.pop("amount")
    return mapping, confidences


@dataclasses.dataclass(frozen=True)
class _Profile:
    filled: int
    dates: int
    numbers: int
    codes: int
    text_length: float


def _profile(values: list[Any]) -> _Profile:
    filled = [v for v in values if v is not None]
    texts = [v for v in filled if isinstance(v, str)]
    return _Profile(
        filled=len(filled),
        dates=sum(1 for v in filled if dates.looks_like_date(v)),
        numbers=sum(1 for v in filled if amounts.looks_like_amount(v) and not dates.looks_like_date(v)),
        codes=sum(1 for v in texts if re.fullmatch(r"[A-Z]{3}", v.strip())),
        text_length=sum(len(v) for v in texts) / max(len(texts), 1),
    )


def _fit(field: str, profile: _Profile) -> float:
    """How well a column's values fit a field (1 = fine or no data; small = contradicted)."""
    if profile.filled == 0:
        return 1.0
    if field in _DATE_FIELDS:
        numbers = profile.numbers  # Excel serial numbers are acceptable in a date column
        return 1.0 if (profile.dates + numbers) / profile.filled >= 0.5 else 0.3
    if field in _NUMBER_FIELDS:
        return 1.0 if profile.numbers / profile.filled >= 0.5 else 0.3
    if field == "currency":
        return 1.0 if profile.codes / profile.filled >= 0.5 else 0.3
    if field in ("description", "counterparty"):
        return 0.5 if profile.dates / profile.filled >= 0.8 else 1.0
    return 1.0


def _is_data_row(row: base.RawRow) -> bool:
    cells = [c for c in row.cells if c is not None]
    has_date = any(dates.looks_like_date(c) for c in cells)
    has_amount = any(amounts.looks_like_amount(c) and not dates.looks_like_date(c) for c in cells)
    return has_date and has_amount


def _overall(mapping: dict[str, int], confidences: dict[str, float]) -> float:
    date = confidences.get("date", 0.0)
    if "amount" in mapping:
        amount = confidences["amount"]
    elif "debit" in mapping and "credit" in mapping:
        amount = min(confidences["debit"], confidences["credit"])
    else:
        amount = 0.0
    return min(date, amount)


def signature(headers: Iterable[str]) -> str:
    cells = list(headers)
    while cells and not cells[-1]:
        cells.pop()
    return hashlib.sha256("\x1f".join(cells).encode()).hexdigest()[:32]


def infer_without_header(rows: list[base.RawRow]) -> Detection:
    """No header row: dates, numbers and the longest text column, from the values alone."""
    data = [r for r in rows if not r.is_blank()]
    width = max((len(r.cells) for r in data), default=0)
    profiles = [_profile([r.cells[i] if i < len(r.cells) else None for r in data]) for i in range(width)]
    date_columns = [i for i, p in enumerate(profiles) if p.filled and p.dates / p.filled >= 0.6]
    number_columns = [i for i, p in enumerate(profiles)
                      if p.filled and i not in date_columns and p.numbers / p.filled >= 0.6]
    text_columns = [i for i, p in enumerate(profiles)
                    if p.filled and i not in date_columns and i not in number_columns]
    mapping: dict[str, int] = {}
    if date_columns:
        mapping["date"] = date_columns[0]
        if len(date_columns) > 1:
            mapping["value_date"] = date_columns[1]
    if number_columns:
        mapping["amount"] = number_columns[0]
        if len(number_columns) > 1:
            mapping["balance"] = number_columns[-1]
    if text_columns:
        mapping["description"] = max(text_columns, key=lambda i: profiles[i].text_length)
    confidences = {field: 0.4 for field in mapping}
    complete = "date" in mapping and "amount" in mapping
    kinds = ["D" if i in date_columns else "N" if i in number_columns else "T" for i in range(width)]
    return Detection(
        header_row=None,
        mapping=mapping,
        confidence=0.4 if complete else 0.1,
        confidences=confidences,
        signature=signature(["noheader", *kinds]) if data else "",
        score=0.5 if complete else 0.0,
    )
