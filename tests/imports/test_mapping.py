"""Header row and column mapping: title lines, languages, fuzzy headers, no header at all."""

from __future__ import annotations

import pytest

from coffer.imports import mapping
from coffer.imports.readers import base


def raw(rows):
    return [base.RawRow(number=i + 1, cells=[None if c == "" else c for c in row]) for i, row in enumerate(rows)]


DATA_DMY = [["01.03.2024", "01.03.2024", "ACME GmbH", "Rechnung 12", "-12,50", "987,50"],
            ["02.03.2024", "02.03.2024", "Gehalt", "Lohn März", "2.500,00", "3.487,50"]] * 3


@pytest.mark.parametrize("header,expected", [
    (["Buchungstag", "Valutadatum", "Auftraggeber/Empfänger", "Verwendungszweck", "Betrag (EUR)", "Saldo (EUR)"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["Date opération", "Date de valeur", "Tiers", "Libellé", "Montant", "Solde"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["Fecha", "Fecha valor", "Beneficiario", "Concepto", "Importe", "Saldo"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["Datum", "Rentedatum", "Naam", "Omschrijving", "Bedrag", "Saldo"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["Data", "Data valuta", "Controparte", "Descrizione", "Importo", "Saldo"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["Booking date", "Value date", "Payee", "Details", "Amount", "Running balance"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
    (["BOOKING  DATE", "Valuedate", "Beneficary", "Descripton", "Amount [EUR]", "Balance €"],
     {"date": 0, "value_date": 1, "counterparty": 2, "description": 3, "amount": 4, "balance": 5}),
])
def test_headers_in_each_language_map_to_fields(header, expected):
    detection = mapping.detect_rows(raw([header] + DATA_DMY))
    assert (detection.header_row, detection.mapping) == (1, expected)
    assert detection.confidence >= 0.8


def test_header_below_title_lines_and_account_metadata_is_found():
    rows = [["Kontoauszug"], ["Konto", "DE89 3704 0044"], ["Währung", "EUR"], ["Zeitraum", "01.03.2024 - 31.03.2024"], [],
            ["Buchungstag", "Wertstellung", "Empfänger", "Verwendungszweck", "Betrag", "Saldo"]] + DATA_DMY
    detection = mapping.detect_rows(raw(rows))
    assert detection.header_row == 6
    assert detection.letters == {"date": "A", "value_date": "B", "counterparty": "C", "description": "D",
                                 "amount": "E", "balance": "F"}


def test_debit_and_credit_columns_map_as_a_pair():
    rows = [["Date", "Description", "Debit", "Credit", "Balance"],
            ["2024-03-01", "Tea", "2.50", "", "97.50"], ["2024-03-02", "Pay", "", "1000.00", "1097.50"]]
    assert mapping.detect_rows(raw(rows)).mapping == {"date": 0, "description": 1, "debit": 2, "credit": 3,
                                                     "balance": 4}


def test_dutch_af_bij_indicator_maps_to_direction():
    rows = [["Datum", "Naam / Omschrijving", "Af Bij", "Bedrag (EUR)"], ["20240301", "Albert Heijn", "Af", "12,50"],
            ["20240302", "Salaris", "Bij", "2500,00"]]
    detection = mapping.detect_rows(raw(rows))
    assert detection.mapping["direction"] == 2 and detection.mapping["amount"] == 3


def test_ambiguous_valuta_follows_the_values_in_the_column():
    as_date = mapping.detect_rows(raw([["Data", "Valuta", "Descrizione", "Importo"],
                                       ["01/03/2024", "02/03/2024", "Bar", "-2,00"]] * 1))
    as_currency = mapping.detect_rows(raw([["Datum", "Valuta", "Omschrijving", "Bedrag"],
                                           ["01-03-2024", "EUR", "Bar", "-2,00"]]))
    assert as_date.mapping["value_date"] == 1
    assert as_currency.mapping["currency"] == 1


def test_without_a_header_columns_are_inferred_from_values_with_low_confidence():
    rows = [["2024-03-01", "Coffee shop downtown", "-3.50", "96.50"], ["2024-03-02", "Bakery", "-2.00", "94.50"]]
    detection = mapping.detect_rows(raw(rows))
    assert detection.header_row is None
    assert detection.mapping == {"date": 0, "amount": 2, "balance": 3, "description": 1}
    assert detection.confidence < 0.5


def test_signature_ignores_case_accents_and_units_but_not_columns():
    first = mapping.detect_rows(raw([["Date opération", "Libellé", "Montant (EUR)"], ["01/03/2024", "x", "1,00"]]))
    same = mapping.detect_rows(raw([["DATE OPERATION", "libelle", "Montant"], ["01/03/2024", "x", "1,00"]]))
    other = mapping.detect_rows(raw([["Date opération", "Montant", "Libellé"], ["01/03/2024", "1,00", "x"]]))
    assert first.signature == same.signature != other.signature
    assert len(first.signature) == 32


def test_normalise_header_drops_units_and_accents():
    assert mapping.normalise_header("Betrag (EUR)") == "betrag"
    assert mapping.normalise_header("  Date  d'opération ") == "date d operation"
    assert mapping.normalise_header("Auftraggeber/Empfänger") == "auftraggeber empfanger"
