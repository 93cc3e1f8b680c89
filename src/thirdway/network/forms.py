"""Forms of the partner directory; they only shape input, the services decide."""

from __future__ import annotations

import json
import re

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


DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})$")
RANGES_ALLOWED = "HH:MM-HH:MM, several separated by commas, e.g. 09:00-12:00, 13:00-17:00"


class WeekHoursWidget(forms.MultiWidget):
    """One box per weekday, shown as a week grid: "09:00-12:00, 13:00-17:00"."""

    template_name = "network/widgets/week_hours.html"

    def __init__(self, attrs=None) -> None:
        boxes = {
            day: forms.TextInput(attrs={"placeholder": "off", "aria-label": name})
            for day, name in DAY_NAMES.items()
        }
        super().__init__(boxes, attrs)

    def decompress(self, value) -> list[str]:
        if isinstance(value, str):
            try:
                value = json.loads(value or "{}")
            except json.JSONDecodeError:
                value = {}
        value = value if isinstance(value, dict) else {}
        return [_ranges_text(value.get(day)) for day in DAY_NAMES]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        days = zip(DAY_NAMES.values(), context["widget"]["subwidgets"], strict=True)
        context["widget"]["days"] = list(days)
        return context


def _ranges_text(intervals) -> str:
    if not isinstance(intervals, list):
        return ""
    return ", ".join(
        f"{pair[0]}-{pair[1]}"
        for pair in intervals
        if isinstance(pair, list | tuple) and len(pair) == 2
    )


class WeekHoursField(forms.MultiValueField):
    """Weekly working hours typed per day; becomes ``{"mon": [["09:00", "17:00"]], ...}``
    (days left empty are days off).  Whether the intervals make sense is the service's call."""

    widget = WeekHoursWidget

    def __init__(self, **kwargs) -> None:
        boxes = [forms.CharField(required=False) for _ in DAY_NAMES]
        kwargs.setdefault("required", False)
        super().__init__(boxes, require_all_fields=False, **kwargs)

    def compress(self, data_list) -> dict:
        hours = {}
        for (day, name), text in zip(DAY_NAMES.items(), data_list or [""] * 7, strict=False):
            pieces = [piece.strip() for piece in (text or "").split(",") if piece.strip()]
            if pieces:
                hours[day] = [_range(name, piece) for piece in pieces]
        return hours

    def has_changed(self, initial, data) -> bool:
        try:
            return self.clean(data) != (initial if isinstance(initial, dict) else {})
        except forms.ValidationError:
            return True


def _range(day_name: str, text: str) -> list[str]:
    match = RANGE.match(text)
    if not match:
        raise forms.ValidationError(
            f"{day_name}: {text!r} is not a time range. Allowed: {RANGES_ALLOWED}."
        )
    h1, m1, h2, m2 = match.groups()
    return [f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"]


class LanguagesField(forms.CharField):
    """Language codes typed as "en, fr"; the service checks each code."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return ", ".join(str(code) for code in value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [code.strip() for code in re.split(r"[,\s]+", text) if code.strip()]

    def has_changed(self, initial, data) -> bool:
        return (initial or []) != self.to_python(data)


class PartnerFilterForm(forms.Form):
    practice = forms.ModelChoiceField(Practice.objects.all(), required=False)
    region = forms.CharField(required=False)
    available_now = forms.BooleanField(required=False, label="Available now")


class PartnerForm(forms.ModelForm):
    # Both may be empty (no hours set, no language listed), as the model allows.
    working_hours = WeekHoursField(
        help_text=f"Per day, in the partner's own time zone: {RANGES_ALLOWED}; empty: off."
    )
    languages = LanguagesField(
        required=False, help_text="Language codes separated by commas, e.g. en, fr"
    )

    class Meta:
        model = Partner
        fields = PARTNER_FORM_FIELDS

    def __init__(self, *args, allowed_fields=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        zone = self.instance.time_zone if self.instance and self.instance.pk else ""
        if zone:
            self.fields[
                "working_hours"
            ].help_text = f"Per day, in {zone} time: {RANGES_ALLOWED}; empty: off."
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
