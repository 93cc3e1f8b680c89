"""The preference form: which kinds come by e-mail, and where to."""

from __future__ import annotations

from django import forms

from thirdway.tickets.notifications.models import NotificationKind


class PreferencesForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label="By e-mail",
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Everything shows under the bell; these also come by e-mail.",
    )
    # Checked by the service, so the page and any other caller say the same thing.
    email = forms.CharField(
        label="Send e-mail to",
        required=False,
        max_length=254,
        help_text="Leave empty to use your account's address.",
    )
