"""Forms of the web app's ledger pages. They only parse and label input; the rules live in the
ledger services (whose errors web.form_errors pins to the matching field)."""

from __future__ import annotations

from django import forms

from coffer import money
from coffer.ledger.models import Account
from coffer.web import formatting


def _amount_field(**kwargs) -> forms.DecimalField:
    return forms.DecimalField(max_digits=money.AMOUNT_MAX_DIGITS, decimal_places=money.AMOUNT_DECIMAL_PLACES, **kwargs)


class AccountForm(forms.Form):
    name = forms.CharField(max_length=120)
    type = forms.ChoiceField(choices=Account.Type.choices, initial=Account.Type.CHECKING)
    currency = forms.CharField(max_length=3, min_length=3, initial="EUR", help_text="ISO 4217 code, such as EUR or USD.")
    opening_balance = _amount_field(initial="0.00", label="Opening balance")
    institution = forms.CharField(max_length=120, required=False, label="Bank or institution")
    account_number = forms.CharField(max_length=64, required=False, label="Account number (IBAN)")

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    @classmethod
    def for_account(cls, account: Account, data=None) -> AccountForm:
        return cls(data, initial={
            "name": account.name, "type": account.type, "currency": account.currency,
            "opening_balance": formatting.plain(account.opening_balance), "institution": account.institution,
            "account_number": account.account_number,
        })


class TransactionForm(forms.Form):
    booked_on = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(max_length=500, required=False)
    amount = _amount_field(help_text="Negative for money going out, e.g. -12.50.")
    account = forms.ChoiceField()  # choices: the tenant's open accounts, given by the view
    counterparty = forms.CharField(max_length=200, required=False)
    reference = forms.CharField(max_length=200, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, accounts: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(str(a.pk), f"{a.name} ({a.currency})") for a in accounts]

    @classmethod
    def for_transaction(cls, row, *, accounts: list[Account], data=None) -> TransactionForm:
        return cls(data, accounts=accounts, initial={
            "account": str(row.account_id), "booked_on": row.booked_on, "amount": formatting.plain(row.amount),
            "description": row.description, "counterparty": row.counterparty, "reference": row.reference,
            "note": row.note,
        })

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["account_id"] = data.pop("account")
        return data


class TransactionFilterForm(forms.Form):
    account = forms.ChoiceField(required=False)
    booked_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    booked_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = _amount_field(required=False, label="Min amount")
    amount_max = _amount_field(required=False, label="Max amount")
    q = forms.CharField(required=False, max_length=200, label="Text")
    sort = forms.ChoiceField(required=False, choices=[  # ledger.selectors.TRANSACTION_SORTS
        ("-booked_on", "Newest first"), ("booked_on", "Oldest first"),
        ("-amount", "Largest amount"), ("amount", "Smallest amount"),
    ])

    def __init__(self, *args, accounts: list[Account], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "All accounts")] + [(str(a.pk), a.name) for a in accounts]

    def selector_filters(self) -> dict:
        data = self.cleaned_data
        return {
            "account_id": data.get("account") or None, "booked_from": data.get("booked_from"),
            "booked_to": data.get("booked_to"), "amount_min": data.get("amount_min"),
            "amount_max": data.get("amount_max"), "text": (data.get("q") or "").strip(),
            "sort": data.get("sort") or "-booked_on",
        }
