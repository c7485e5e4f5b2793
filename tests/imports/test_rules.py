"""Sequence rules: future dates, running balance (either order), outliers, currency, fingerprints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from coffer.imports import issues, parsing, rules
from coffer.imports.rules import balance, fingerprint

D = Decimal
TODAY = dt.date(2024, 6, 30)
COLUMNS = {"date": "A", "description": "B", "amount": "C", "balance": "D", "currency": "E"}


def row(number, amount, balance_=None, *, booked_on=dt.date(2024, 3, 1), currency=""):
    return parsing.ParsedRow(number=number, booked_on=booked_on, amount=D(amount),
                             balance=None if balance_ is None else D(balance_), currency=currency,
                             amount_column="C", columns=COLUMNS)


def codes(rows, code):
    return [(r.number, i.column) for r in rows for i in r.issues if i.code == code]


def chain(amounts, opening="100.00", *, newest_first=False):
    rows, running = [], D(opening)
    for number, amount in enumerate(amounts, start=2):
        running += D(amount)
        rows.append(row(number, amount, running))
    if newest_first:
        rows = [row(n, r.amount, r.balance) for n, r in zip(range(2, 2 + len(rows)), reversed(rows))]
    return rows


def test_clean_files_get_no_warnings_in_either_order():
    amounts = ["-3.50", "-12.00", "2500.00", "-950.00", "-40.10"] * 10
    for newest_first in (False, True):
        checked = list(rules.apply(chain(amounts, newest_first=newest_first), today=TODAY))
        assert [i for r in checked for i in r.issues] == []


def test_statement_order_is_detected_from_the_balances():
    assert balance.detect_order(chain(["-1", "-2", "-3"])) == balance.OLDEST_FIRST
    assert balance.detect_order(chain(["-1", "-2", "-3"], newest_first=True)) == balance.NEWEST_FIRST
    assert balance.detect_order([row(2, "-1"), row(3, "-2")]) is None


def test_a_wrong_balance_flags_only_its_own_row_in_either_order():
    for newest_first in (False, True):
        rows = chain(["-1.00", "-2.00", "-3.00", "-4.00", "-5.00"], newest_first=newest_first)
        rows[2].balance += D("10")
        checked = list(rules.apply(rows, today=TODAY))
        assert codes(checked, issues.W_BALANCE_MISMATCH) == [(4, "D")]
        message = next(i.message for i in checked[2].issues)
        assert "does not follow from the previous balance" in message


def test_a_break_carried_forward_flags_the_first_row_after_it():
    rows = chain(["-1.00", "-2.00", "-3.00", "-4.00"])
    for later in rows[2:]:
        later.balance += D("10")
    assert codes(list(rules.apply(rows, today=TODAY)), issues.W_BALANCE_MISMATCH) == [(4, "D")]


def test_a_row_without_an_amount_breaks_the_chain_silently():
    rows = chain(["-1.00", "-2.00", "-3.00"])
    rows[1].amount = None
    assert codes(list(rules.apply(rows, today=TODAY)), issues.W_BALANCE_MISMATCH) == []


def test_a_repeated_row_is_a_balance_mismatch_that_says_so():
    rows = chain(["-1.00", "-2.00", "-3.00"])
    rows.insert(2, row(99, "-2.00", rows[1].balance))
    checked = list(rules.apply(rows, today=TODAY))
    flagged = [i for r in checked for i in r.issues]
    assert [(i.row, i.code) for i in flagged] == [(99, issues.W_BALANCE_MISMATCH)]
    assert "may repeat row 3" in flagged[0].message


def test_future_dates_are_warned_on_the_date_column():
    rows = [row(2, "-1", booked_on=TODAY), row(3, "-1", booked_on=TODAY + dt.timedelta(days=1))]
    checked = list(rules.apply(rows, today=TODAY))
    assert codes(checked, issues.W_FUTURE_DATE) == [(3, "A")]
    assert checked[1].issues[0].severity == "warning"


def test_only_extreme_amounts_are_outliers():
    everyday = ["-3.50", "-12.00", "-45.00", "-80.00", "-950.00", "3100.00", "-25.00", "-7.99"] * 5
    clean = list(rules.apply([row(n, a) for n, a in enumerate(everyday, 2)], today=TODAY))
    assert codes(clean, issues.W_OUTLIER_AMOUNT) == []
    typo = list(rules.apply([row(n, a) for n, a in enumerate(everyday + ["-250000.00"], 2)], today=TODAY))
    assert codes(typo, issues.W_OUTLIER_AMOUNT) == [(len(everyday) + 2, "C")]


def test_too_few_amounts_give_no_outliers():
    rows = [row(2, "-1.00"), row(3, "-2.00"), row(4, "-100000.00")]
    assert codes(list(rules.apply(rows, today=TODAY)), issues.W_OUTLIER_AMOUNT) == []


def test_a_currency_other_than_the_accounts_is_an_error():
    rows = [row(2, "-1", currency="EUR"), row(3, "-1", currency="USD"), row(4, "-1")]
    checked = list(rules.apply(rows, account_currency="eur", today=TODAY))
    assert codes(checked, issues.E_CURRENCY_MISMATCH) == [(3, "E")]
    assert checked[1].has_error


def test_rules_stream_without_holding_the_file():
    consumed = []

    def source():
        for n in range(2, 20_000):
            consumed.append(n)
            yield row(n, "-1.00")

    checked = rules.apply(source(), today=TODAY, sample_size=100)
    first = next(checked)
    assert first.number == 2 and len(consumed) <= 105


def test_fingerprint_normalises_text_and_keeps_what_tells_rows_apart():
    base = fingerprint.fingerprint("acc", dt.date(2024, 3, 1), D("-3.5"), "  Coffee   HOUSE #12 ", "TX1")
    assert base == fingerprint.fingerprint("acc", dt.date(2024, 3, 1), D("-3.5000"), "coffee house #12", "TX1")
    assert base != fingerprint.fingerprint("acc", dt.date(2024, 3, 1), D("-3.5"), "coffee house #13", "TX1")
    assert base != fingerprint.fingerprint("other", dt.date(2024, 3, 1), D("-3.5"), "coffee house #12", "TX1")


def test_identical_rows_get_successive_occurrences_in_statement_order():
    assert list(fingerprint.with_occurrence(["a", "b", "a", "a"])) == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]
