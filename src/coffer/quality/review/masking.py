"""Masking personal and account data before anything is sent to a model provider.

Replaced, wherever they appear in a text (a cell, a top value, a finding's message):

    e-mail addresses               -> <email>
    IBANs (with or without spaces) -> <iban>
    card numbers (13-19 digits)    -> <card>
    phone numbers, account numbers
    and other long digit runs      -> <number>   (9+ digits in one run of digits and separators,
                                                  or 7+ digits without any separator)

Dates (2024-03-01, 01.03.2024, with a time) and amounts (1234567.89, 1 234 567,89) are
protected first so they survive. Masking errs on the side of hiding: a
long reference number is masked too. The sample shows the model the shape of the data, not
whose data it is.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){11,30}\b")
CARD = re.compile(r"(?<![\w])\d(?:[ \-]?\d){12,18}(?![\w])")
DIGIT_RUN = re.compile(r"(?<![\w])\+?\(?\d[\d \-./()]*\d(?![\w])")
_PROTECT = re.compile(
    r"(?<![\d.\-/])\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?![\d.\-/])"  # ISO dates, times
    r"|(?<![\d.\-/])\d{1,2}([./-])\d{1,2}\1\d{2,4}(?![\d.\-/])"  # 01.03.2024, 3/1/24
    r"|\b\d{1,3}(?:[ \u00a0\u202f,.']\d{3})+[.,]\d{1,2}\b"  # 1 234 567,89 / 1,234,567.89
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"  # times
    r"|(?<![\d.,\-])-?\d{1,12}[.,]\d{1,2}(?![\d.,])"  # plain amounts: 1234567.89
)
_TOKEN = "\x00{}\x00"
_RESTORE = re.compile("\x00(\\d+)\x00")


def mask(text: str) -> str:
    if not text:
        return text
    text = EMAIL.sub("<email>", text)
    kept: list[str] = []

    def protect(match: re.Match) -> str:
        kept.append(match.group(0))
        return _TOKEN.format(len(kept) - 1)

    text = _PROTECT.sub(protect, text)
    text = IBAN.sub(_iban, text)
    text = CARD.sub(_card, text)
    text = DIGIT_RUN.sub(_digits, text)
    return _RESTORE.sub(lambda m: kept[int(m.group(1))], text)


def _iban(match: re.Match) -> str:
    value = match.group(0)
    return "<iban>" if sum(c.isdigit() for c in value) >= 8 else value


def _card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "<card>" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group(0)


def _digits(match: re.Match) -> str:
    value = match.group(0)
    digits = sum(c.isdigit() for c in value)
    plain = value.lstrip("+").isdigit()
    if digits >= 9 or (plain and digits >= 7):
        return "<number>"
    return value


def _luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0
