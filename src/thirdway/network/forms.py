"""Forms of the partner directory; they only shape input, the services decide."""

from __future__ import annotations

import json

from django import forms

from thirdway.network.models import Absence, Partner, Practice

PARTNER_FORM_FIELDS = [
    "name",
    "email",
    "phone",
    "kind",
    "region",
    "town",
    "latitude",
    "longitude",
    "time_zone",
    "service_radius_km",
    "capacity",
    "working_hours",
    "languages",
    "is_active",
]


class JSONText(forms.CharField):
    """A JSON value typed as text, e.g. working hours or a list of languages.

    ``empty`` makes the value of an empty box (or ``null``), e.g. ``list``; an empty value such as
    ``[]`` is then a valid answer rather than a missing one.
    """

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, empty=None, **kwargs) -> None:
        self.empty = empty
        if empty is not None:
            kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, str) else json.dumps(value)

    def to_python(self, value):
        try:
            parsed = json.loads(value or "null")
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg}.") from error
        if parsed is None and self.empty is not None:
            return self.empty()
        return parsed


class PartnerFilterForm(forms.Form):
    practice = forms.ModelChoiceField(Practice.objects.all(), required=False)
    region = forms.CharField(required=False)
    available_now = forms.BooleanField(required=False, label="Available now")


class PartnerForm(forms.ModelForm):
    # Both may be empty (no hours set, no language listed), as the model allows.
    working_hours = JSONText(
        empty=dict, help_text='e.g. {"mon": [["09:00", "17:00"]], "tue": [...]}'
    )
    languages = JSONText(empty=list, help_text='e.g. ["en", "fr"]')

    class Meta:
        model = Partner
        fields = PARTNER_FORM_FIELDS

    def __init__(self, *args, allowed_fields=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if allowed_fields is not None:
            for name in list(self.fields):
                if name not in allowed_fields:
                    del self.fields[name]

    def _post_clean(self) -> None:
        """Model validation happens in the service, so the form does not save or clean the model."""


class AbsenceForm(forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["kind", "starts_at", "ends_at", "note", "deputy"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
        help_texts = {"deputy": "Takes all the open tickets while away; empty: chosen per ticket."}

    def __init__(self, *args, partner: Partner | None = None, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Colleagues in the partner's practices first; the service checks the choice.
        choices = Partner.objects.filter(is_active=True)
        if user is not None:
            choices = Partner.objects.for_user(user).filter(is_active=True)
        if partner is not None:
            choices = choices.exclude(pk=partner.pk)
            practices = partner.skills.values("practice_id")
            if practices.exists():
                choices = choices.filter(skills__practice_id__in=practices).distinct()
        self.fields["deputy"].queryset = choices.order_by("name")
        self.fields["deputy"].empty_label = "Chosen per ticket"

    def _post_clean(self) -> None:
        """Validation of the period belongs to the service."""


class PartnerCreateForm(PartnerForm):
    username = forms.CharField(required=False, help_text="Leave empty for no sign-in account.")
    password = forms.CharField(required=False, widget=forms.PasswordInput)
