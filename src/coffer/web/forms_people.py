"""Forms about people: sign-up, organizations, members, invitations and the audit filters. The rules
(unique email, password strength, who may give which role) live in tenancy.services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from coffer.tenancy import roles
from coffer.tenancy.roles import Role


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False,
        help_text="At least 10 characters; not a common password.",
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=150)
    base_currency = forms.CharField(max_length=3, min_length=3, initial="EUR", label="Base currency")

    def clean_base_currency(self) -> str:
        return self.cleaned_data["base_currency"].strip().upper()


# --- members and invitations ------------------------------------------------


def assignable_roles(actor_role: str) -> list[tuple[str, str]]:
    """The roles a person may give: their own and below (tenancy.services refuses the rest too)."""
    return [(value, label) for value, label in Role.choices if roles.outranks_or_equals(actor_role, value)]


def _role_field(actor_role: str, **kwargs) -> forms.ChoiceField:
    allowed = ", ".join(label.lower() + "s" for _, label in assignable_roles(actor_role))
    return forms.ChoiceField(
        choices=assignable_roles(actor_role),
        error_messages={"invalid_choice": f"As {actor_role} you can give these roles: {allowed}."}, **kwargs,
    )


class MemberRoleForm(forms.Form):
    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field(actor_role)


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address",
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = _role_field(actor_role, initial=Role.MEMBER,
                                          help_text="Viewers read; members add transactions and imports; "
                                                    "admins also manage accounts and people.")


class InvitationSignUpForm(forms.Form):
    """A new person joining from an invitation: the email is the invitation's."""

    name = forms.CharField(max_length=150, required=False, label="Your name")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False,
        help_text="At least 10 characters; not a common password.",
    )


class OwnershipTransferForm(forms.Form):
    confirm = forms.BooleanField(label="I understand that I will become an admin of this organization.",
                                 error_messages={"required": "Tick the box to confirm the hand-over."})


class OrganizationDeleteForm(forms.Form):
    confirm_name = forms.CharField(max_length=150, label="Type the organization's name to confirm")

    def __init__(self, *args, tenant_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant_name = tenant_name

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.tenant_name:
            raise forms.ValidationError("That is not the organization's name; nothing was deleted.")
        return value


# --- the audit trail -------------------------------------------------------------


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, max_length=64, help_text="e.g. membership.update")
    actor = forms.ChoiceField(required=False, label="Who")
    object_type = forms.CharField(required=False, max_length=64, label="Object type", help_text="e.g. account")
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Anyone")] + [
            (str(m.user_id), m.user.name or m.user.email) for m in members
        ]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def selector_filters(self) -> dict:
        """Dates are whole days in the person's time zone."""
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start(day: dt.date) -> dt.datetime:
            return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

        return {
            "action": data.get("action", "").strip() or None,
            "actor_id": data.get("actor") or None,
            "object_type": data.get("object_type", "").strip() or None,
            "created_from": start(data["date_from"]) if data.get("date_from") else None,
            "created_before": start(data["date_to"] + dt.timedelta(days=1)) if data.get("date_to") else None,
        }
