"""Forms of the expected fees and exchange rates pages. They parse and label input; the rules (positive
amounts, known currencies, one rate per pair and day) live in ledger.fees and ledger.exchange_rates, whose
domain errors web.form_errors pins to the field of the same name."""

from __future__ import annotations

from django import forms

from coffer import errors, money
from coffer.ledger import exchange_rates
from coffer.ledger import fees as ledger_fees
from coffer.ledger.models import Account, Category, ExpectedFee
from coffer.web import forms_ledger


class ExpectedFeeForm(forms.Form):
    # Named as the service's arguments (account_id is shown as "account", as web.form_errors expects).
    account = forms.ChoiceField(label="Account")
    name = forms.CharField(max_length=ledger_fees.NAME_MAX, help_text="Also matched in a fee's description, "
                                                                       "e.g. “Account fee”.")
    amount = forms.DecimalField(label="Expected amount", max_digits=money.AMOUNT_MAX_DIGITS,
                                decimal_places=money.AMOUNT_DECIMAL_PLACES, help_text="What is charged, above 0.")
    frequency = forms.ChoiceField(choices=ExpectedFee.Frequency.choices, initial=ExpectedFee.Frequency.MONTHLY)
    category_id = forms.ChoiceField(label="Category", required=False,
                                    help_text="Empty: anything in “Fees & charges” counts.")
    day_tolerance = forms.IntegerField(label="Days of leeway", min_value=0, max_value=ledger_fees.MAX_DAY_TOLERANCE,
                                       initial=0, help_text="A fee booked this many days outside its period "
                                                            "still counts for it.")

    def __init__(self, *args, accounts: list[Account], categories: list[Category], fee: ExpectedFee | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.fee = fee
        if fee is not None:  # a fee stays with its account (delete and create instead)
            self.fields["account"].choices = [(str(fee.account_id), fee.account.name)]
            self.fields["account"].disabled = True
        else:
            self.fields["account"].choices = [("", "Choose an account")] + [
                (str(a.pk), f"{a.name} ({a.currency})") for a in accounts]
        self.fields["category_id"].choices = forms_ledger.expense_category_choices(categories,
                                                                                 empty_label="Any fee category")
        self.fields["amount"].widget.attrs.update(inputmode="decimal", step="0.01")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount <= 0:
            raise forms.ValidationError("Must be above 0 (what is charged).")
        return amount

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["category_id"] = data["category_id"] or None
        account = data.pop("account")
        return data if self.fee is not None else {"account_id": account, **data}

    @classmethod
    def for_fee(cls, fee: ExpectedFee, data=None, *, categories: list[Category]) -> ExpectedFeeForm:
        return cls(data, accounts=[], categories=categories, fee=fee, initial={
            "account": str(fee.account_id), "name": fee.name, "amount": fee.amount, "frequency": fee.frequency,
            "category_id": str(fee.category_id or ""), "day_tolerance": fee.day_tolerance,
        })


class ExchangeRateForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    from_currency = forms.CharField(label="From", max_length=3, help_text="ISO 4217, e.g. USD.",
                                    widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}))
    to_currency = forms.CharField(label="To", max_length=3, help_text="ISO 4217, e.g. EUR.",
                                  widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}))
    # Text: the service says what is wrong with it (not a number, not above 0, too many places).
    rate = forms.CharField(max_length=40, help_text="1 From = rate To.",
                           widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    # Every field checked at once with the service's own rules (which it applies again), so a person sees all
    # that is wrong in one go rather than one error per try.
    def _checked(self, clean, field: str):
        try:
            return clean(self.cleaned_data[field])
        except errors.ValidationError as exc:
            raise forms.ValidationError(exc.field_errors.get(field, exc.message)) from None

    def clean_from_currency(self):
        return self._checked(lambda value: money.clean_currency(value, field="from_currency"), "from_currency")

    def clean_to_currency(self):
        return self._checked(lambda value: money.clean_currency(value, field="to_currency"), "to_currency")

    def clean_rate(self):
        return self._checked(exchange_rates.clean_rate, "rate")

