"""Forms of the budgets and reports pages. They parse and label input; the rules live in ledger.budgets and
insights.reports, whose domain errors web.form_errors pins to the field of the same name."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django import forms

from coffer import money
from coffer.insights import reports
from coffer.ledger.models import Budget, Category
from coffer.web import formatting, forms_ledger


class BudgetForm(forms.Form):
    # Named as the service's arguments, so its field errors land next to these fields.
    category_id = forms.ChoiceField(label="Category", help_text="An expense category; a top-level one covers its "
                                                                "subcategories.")
    amount = forms.DecimalField(label="Amount per period", min_value=0, max_digits=money.AMOUNT_MAX_DIGITS,
                                decimal_places=money.AMOUNT_DECIMAL_PLACES)
    period = forms.ChoiceField(choices=Budget.Period.choices, initial=Budget.Period.MONTHLY)
    currency = forms.CharField(max_length=3, min_length=3, help_text="An ISO 4217 code such as EUR.")
    starts_on = forms.DateField(required=False, label="Starts", widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Moved to the first day of its period; empty: the current period.")
    rollover = forms.BooleanField(required=False, label="Carry what is left (or overspent) into the next period")

    def __init__(self, *args, categories: list[Category], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = forms_ledger.expense_category_choices(categories,
                                                                                 empty_label="Choose a category")
        self.fields["amount"].widget.attrs.update(inputmode="decimal", step="0.01")

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount <= 0:
            raise forms.ValidationError("Must be above 0.")
        return amount

    def clean_currency(self):
        return self.cleaned_data["currency"].strip().upper()

    @classmethod
    def for_budget(cls, budget: Budget, data=None, *, categories: list[Category]) -> BudgetForm:
        return cls(data, categories=categories, initial={
            "category_id": str(budget.category_id), "amount": budget.amount, "period": budget.period,
            "currency": budget.currency, "starts_on": budget.starts_on, "rollover": budget.rollover,
        })


# --- reports ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportPeriod:
    start: dt.date
    end: dt.date
    label: str


def _months_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


class ReportPeriodForm(forms.Form):
    PERIODS = [("last_12_months", "Last 12 months"), ("this_month", "This month"), ("last_month", "Last month"),
               ("this_year", "This year"), ("last_year", "Last year"), ("custom", "Custom range")]

    period = forms.ChoiceField(choices=PERIODS, required=False, label="Period")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    convert = forms.BooleanField(required=False, label="Also in the base currency")

    def clean(self):
        data = super().clean()
        if data.get("period") == "custom" and not self.errors:
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", "Give the first day of the range.")
            if end is None:
                self.add_error("end", "Give the last day of the range.")
            if start and end and start > end:
                self.add_error("start", "The range starts after it ends.")
            elif start and end and (end.year - start.year) * 12 + end.month - start.month + 1 > reports.MAX_MONTHS:
                self.add_error("start", f"A range covers at most {reports.MAX_MONTHS} months.")
        return data

    def period_for(self, today: dt.date) -> ReportPeriod | None:
        """The chosen period (the last 12 months by default), or None while the form has errors."""
        if not self.is_valid():
            return None
        chosen = self.cleaned_data.get("period") or "last_12_months"
        if chosen == "custom":
            start, end = self.cleaned_data["start"], self.cleaned_data["end"]
            return ReportPeriod(start, end, f"{formatting.day(start)} – {formatting.day(end)}")
        if chosen == "this_month":
            return ReportPeriod(today.replace(day=1), today, today.strftime("%B %Y"))
        if chosen == "last_month":
            start = _months_back(today, 1)
            return ReportPeriod(start, today.replace(day=1) - dt.timedelta(days=1), start.strftime("%B %Y"))
        if chosen == "this_year":
            return ReportPeriod(dt.date(today.year, 1, 1), today, str(today.year))
        if chosen == "last_year":
            return ReportPeriod(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), str(today.year - 1))
        start = _months_back(today, 11)
        return ReportPeriod(start, today, f"{start:%B %Y} – {today:%B %Y}")
