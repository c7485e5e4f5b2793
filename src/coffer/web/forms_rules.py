"""The web form of a categorization rule. It only parses and labels input and builds the `conditions` and
`actions` dicts ledger.rule_services takes; the service decides what is valid (a refused regex, a rule without
conditions, another tenant's category) and `service_error` pins its message to the matching field."""

from __future__ import annotations

from django import forms

from coffer import errors, money
from coffer.ledger import rule_services
from coffer.ledger.models import Account, Rule
from coffer.web import formatting, forms_ledger

TEXT_FIELDS = ("description", "counterparty", "reference")

# Service field names -> this form's fields ("conditions" / "actions" go on top of the form).
_SERVICE_FIELDS = {
    **{f"conditions.{name}.{part}": f"{name}_{part}" for name in TEXT_FIELDS for part in ("operator", "value")},
    "conditions.amount.equals": "amount_equals", "conditions.amount.min": "amount_min",
    "conditions.amount.max": "amount_max", "conditions.amount.sign": "amount_sign",
    "conditions.account_id": "account", "conditions.booked_from": "booked_from", "conditions.booked_to": "booked_to",
    "actions.category_id": "category", "actions.tags": "tags", "actions.counterparty": "set_counterparty",
    "actions.note": "set_note",
}


def _amount_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(max_digits=money.AMOUNT_MAX_DIGITS, decimal_places=money.AMOUNT_DECIMAL_PLACES,
                              required=False, label=label)


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(required=False, label=label, widget=forms.DateInput(attrs={"type": "date"}))


class RuleForm(forms.Form):
    name = forms.CharField(max_length=rule_services.RULE_NAME_MAX)
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")
    description_operator = forms.ChoiceField(choices=Rule.TextOperator.choices, required=False, label="Description")
    description_value = forms.CharField(required=False, strip=False, label="Description text",
                                        max_length=rule_services.TEXT_VALUE_MAX)
    counterparty_operator = forms.ChoiceField(choices=Rule.TextOperator.choices, required=False, label="Counterparty")
    counterparty_value = forms.CharField(required=False, strip=False, label="Counterparty text",
                                         max_length=rule_services.TEXT_VALUE_MAX)
    reference_operator = forms.ChoiceField(choices=Rule.TextOperator.choices, required=False, label="Reference")
    reference_value = forms.CharField(required=False, strip=False, label="Reference text",
                                      max_length=rule_services.TEXT_VALUE_MAX)
    amount_equals = _amount_field("Amount equals")
    amount_min = _amount_field("Amount at least")
    amount_max = _amount_field("Amount at most")
    amount_sign = forms.ChoiceField(choices=Rule.Sign.choices, required=False, label="Sign")
    account = forms.ChoiceField(required=False, label="Account")
    booked_from = _date_field("Booked from")
    booked_to = _date_field("Booked until")
    category = forms.ChoiceField(required=False, label="Set category")
    tags = forms.CharField(required=False, max_length=600, label="Add tags",
                           help_text="Existing tag names, separated by commas.")
    set_counterparty = forms.CharField(required=False, max_length=rule_services.TEXT_VALUE_MAX,
                                       label="Set counterparty")
    set_note = forms.CharField(required=False, max_length=rule_services.NOTE_MAX, label="Fill an empty note",
                               widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, accounts: list[Account], categories: forms_ledger.CategoryIndex,
                 current_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "— Any account —"),
                                          *((str(a.pk), f"{a.name} ({a.currency})") for a in accounts)]
        self.fields["category"].choices = [("", "— Leave the category —"),
                                           *categories.choices(archived=False, keep=current_category)]
        for name in TEXT_FIELDS:
            self.fields[f"{name}_value"].help_text = "Leave empty for no condition on the " + name + "."
        self.fields["description_value"].help_text += (
            " A regular expression is a safe dialect: no lookarounds or backreferences, nothing that could"
            " backtrack without end.")

    @classmethod
    def for_rule(cls, rule: Rule, tag_names: list[str], *, accounts, categories, data=None) -> RuleForm:
        initial = {
            "name": rule.name, "enabled": rule.enabled, "amount_sign": rule.amount_sign,
            "account": str(rule.account_id or ""), "booked_from": rule.booked_from, "booked_to": rule.booked_to,
            "category": str(rule.category_id or ""), "tags": ", ".join(tag_names),
            "set_counterparty": rule.set_counterparty, "set_note": rule.set_note,
        }
        for name in TEXT_FIELDS:
            initial[f"{name}_operator"] = getattr(rule, f"{name}_operator") or Rule.TextOperator.CONTAINS
            initial[f"{name}_value"] = getattr(rule, f"{name}_value")
        low, high = rule.amount_min, rule.amount_max
        if low is not None and low == high:
            initial["amount_equals"] = formatting.plain(low)
        else:
            initial["amount_min"] = formatting.plain(low) if low is not None else None
            initial["amount_max"] = formatting.plain(high) if high is not None else None
        return cls(data, initial=initial, accounts=accounts, categories=categories, current_category=rule.category_id)

    def service_fields(self) -> dict:
        """What rule_create / rule_update take: name, enabled, conditions, actions."""
        data = self.cleaned_data
        conditions: dict = {}
        for name in TEXT_FIELDS:
            value = data.get(f"{name}_value") or ""
            if value.strip():
                operator = data.get(f"{name}_operator") or Rule.TextOperator.CONTAINS
                conditions[name] = {"operator": operator, "value": value}
        amount = {key: data.get(f"amount_{key}") for key in ("equals", "min", "max")}
        amount = {key: value for key, value in amount.items() if value is not None}
        if data.get("amount_sign"):
            amount["sign"] = data["amount_sign"]
        if amount:
            conditions["amount"] = amount
        if data.get("account"):
            conditions["account_id"] = data["account"]
        for key in ("booked_from", "booked_to"):
            if data.get(key):
                conditions[key] = data[key]
        actions: dict = {}
        if data.get("category"):
            actions["category_id"] = data["category"]
        tags = forms_ledger.tag_names(data.get("tags") or "")
        if tags:
            actions["tags"] = tags
        if (data.get("set_counterparty") or "").strip():
            actions["counterparty"] = data["set_counterparty"]
        if (data.get("set_note") or "").strip():
            actions["note"] = data["set_note"]
        return {"name": data["name"], "enabled": bool(data.get("enabled")), "conditions": conditions,
                "actions": actions}


def service_error(exc: errors.DomainError) -> errors.DomainError:
    """The service's error with its field names turned into this form's (web.form_errors then places it)."""
    fields = {_SERVICE_FIELDS.get(field, field): message for field, message in exc.field_errors.items()}
    return type(exc)(exc.message, field_errors=fields)
