"""Forms of the person's own settings: profile, password and personal access tokens. They parse and
label input; tenancy.services and api.services hold the rules."""

from __future__ import annotations

import functools
import zoneinfo

from django import forms

from coffer.api.models import ApiToken
from coffer.tenancy.models import User


@functools.cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones())  # what tenancy.services accepts
    return [(name, name.replace("_", " ")) for name in names]


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")
    time_zone = forms.ChoiceField(label="Time zone", help_text="Times on every page are shown in this zone.")
    date_format = forms.ChoiceField(choices=User.DateFormat.choices, label="Date format")
    number_format = forms.ChoiceField(choices=User.NumberFormat.choices, label="Number format",
                                      help_text="How amounts are shown; forms still take 1234.56.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()

    @classmethod
    def for_user(cls, user: User, data=None) -> ProfileForm:
        return cls(data, initial={"name": user.name, "time_zone": user.time_zone, "date_format": user.date_format,
                                  "number_format": user.number_format})


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(label="Current password", strip=False,
                                       widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    new_password = forms.CharField(label="New password", strip=False,
                                   widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                   help_text="At least 10 characters; not a common password.")
    new_password_again = forms.CharField(label="New password, again", strip=False,
                                         widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password_again") and data["new_password"] != data["new_password_again"]:
            self.add_error("new_password_again", "The two new passwords differ.")
        return data


EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “Spreadsheet sync”.")
    tenant = forms.ChoiceField(label="Space", help_text="A token reaches one space, with your role there.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, label="Access")
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, empty_value=None, required=False,
                                             label="Expires")

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant"].choices = [(m.tenant.slug, f"{m.tenant.name} ({m.get_role_display()})") for m in memberships]
