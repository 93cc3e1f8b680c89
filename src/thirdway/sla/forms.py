"""Forms of the service-level settings; they shape input, the services decide.

Opening hours are typed per weekday as ``09:00-12:00, 13:00-17:00``; targets are one number
box per priority and clock; each escalation step is a percent and a set of actions.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from thirdway.sla import calendars
from thirdway.sla.models import BusinessCalendar, ClockKind, EscalationAction, SlaPolicy
from thirdway.web.forms import service_texts
from thirdway.weekly_hours import WEEKDAYS

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
PRIORITIES = (1, 2, 3, 4)


def day_text(spans: list) -> str:
    return ", ".join(f"{start}-{end}" for start, end in spans)


def _country_name(code: str) -> str:
    import holidays  # as calendars does: loaded only when a settings page needs it

    for name, found, *_ in holidays.registry.COUNTRIES.values():
        if found == code:
            return "".join(f" {c}" if c.isupper() else c for c in name).strip()
    return code


def country_choices() -> list[tuple[str, str]]:
    codes = sorted(c for c in calendars.supported_countries() if len(c) == 2)
    named = sorted(
        ((code, f"{_country_name(code)} ({code})") for code in codes), key=lambda c: c[1]
    )
    return [("", "No public holidays"), *named]


def _region_names(country: str) -> dict[str, str]:
    import holidays

    aliases = getattr(holidays.country_holidays(country), "subdivisions_aliases", {})
    names: dict[str, str] = {}
    for name, code in aliases.items():
        if len(name) > len(names.get(code, "")):  # the full name rather than an abbreviation
            names[code] = name
    return names


def region_choices(country: str) -> list[tuple[str, str]]:
    regions = calendars.supported_countries().get(country, [])
    names = _region_names(country) if regions else {}
    labelled = [(r, f"{names[r]} ({r})" if r in names else r) for r in regions]
    return [("", "The whole country" if regions else "No regions"), *labelled]


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, help_text="e.g. Europe/Paris")
    # Offered as choices, checked by the service (so a refusal reads as the API's).
    holiday_country = forms.CharField(
        required=False, label="Public holidays of", widget=forms.Select
    )
    holiday_region = forms.CharField(required=False, label="Region", widget=forms.Select)

    def __init__(self, *args, country: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hours_errors: list[str] = []
        for day in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                required=False,
                label=DAY_NAMES[day],
                widget=forms.TextInput(attrs={"placeholder": "closed"}),
            )
        self.fields["holiday_country"].widget.choices = country_choices()
        # Picking a country offers its regions (htmx); without script, after saving.
        self.fields["holiday_country"].widget.attrs.update(
            {
                "hx-get": reverse("sla:holiday_regions"),
                "hx-target": "#id_holiday_region",
                "hx-trigger": "change",
            }
        )
        chosen = self.data.get("holiday_country", country) if self.is_bound else country
        self.fields["holiday_region"].widget.choices = region_choices(chosen)

    def hours_fields(self) -> list:
        return [self[f"hours_{day}"] for day in WEEKDAYS]

    def other_fields(self) -> list:
        return [self[name] for name in ("name", "time_zone", "holiday_country", "holiday_region")]

    def clean(self) -> dict:
        data = super().clean()
        hours = {}
        for day in WEEKDAYS:
            text = data.get(f"hours_{day}") or ""
            spans = [part.strip() for part in text.split(",") if part.strip()]
            if not spans:
                continue
            try:  # each day on its own, so a refusal stands beside its day
                calendars.check_hours({day: spans})
            except ValidationError as error:
                for message in service_texts(error):
                    self.add_error(f"hours_{day}", message)
            hours[day] = spans
        data["weekly_hours"] = hours
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "weekly_hours": data["weekly_hours"],
            "holiday_country": data["holiday_country"],
            "holiday_region": data["holiday_region"],
        }

    @classmethod
    def initial_of(cls, calendar: BusinessCalendar) -> dict:
        initial = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "holiday_country": calendar.holiday_country,
            "holiday_region": calendar.holiday_region,
        }
        for day in WEEKDAYS:
            initial[f"hours_{day}"] = day_text(calendar.weekly_hours.get(day, []))
        return initial


class ClosedDayForm(forms.Form):
    closed_date = forms.DateField(
        label="Closed day", widget=forms.DateInput(attrs={"type": "date"})
    )


def target_field(priority: int, kind: str) -> str:
    return f"targets.{priority}.{kind}"


class PolicyForm(forms.Form):
    """A policy's own fields and its targets, named as the service names them in refusals."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    calendar = forms.ModelChoiceField(BusinessCalendar.objects.none())
    is_default = forms.BooleanField(required=False, label="The practice default")

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = BusinessCalendar.objects.for_user(user)
        for priority in PRIORITIES:
            for kind, label in ClockKind.choices:
                self.fields[target_field(priority, kind)] = forms.IntegerField(
                    required=False,
                    label=f"P{priority} {label.lower()} (minutes)",
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                )

    def own_fields(self) -> list:
        return [self[name] for name in ("name", "description", "calendar", "is_default")]

    def target_rows(self) -> list[tuple[int, list]]:
        return [(p, [self[target_field(p, kind)] for kind in ClockKind.values]) for p in PRIORITIES]

    def targets(self) -> dict[int, dict[str, int | None]]:
        return {
            p: {kind: self.cleaned_data[target_field(p, kind)] for kind in ClockKind.values}
            for p in PRIORITIES
        }

    def policy_data(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ("name", "description", "calendar", "is_default")
        }

    @classmethod
    def initial_of(cls, policy: SlaPolicy) -> dict:
        initial: dict = {
            "name": policy.name,
            "description": policy.description,
            "calendar": policy.calendar_id,
            "is_default": policy.is_default,
        }
        for target in policy.targets.all():
            for kind in ClockKind.values:
                initial[target_field(target.priority, kind)] = target.minutes(kind)
        return initial


class StepForm(forms.Form):
    clock = forms.ChoiceField(choices=ClockKind.choices)
    percent = forms.IntegerField(
        label="At % of the target", help_text="1 to 100; 100 is the breach"
    )
    actions = forms.MultipleChoiceField(
        choices=EscalationAction.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    def add_service_error(self, error: ValidationError) -> None:
        """The service names the clock's steps; a wrong action belongs to the actions, an
        order or range problem to the percent."""
        actions_allowed = ", ".join(EscalationAction.values)
        for items in error.error_dict.values():
            for item in items:
                allowed = (item.params or {}).get("allowed")
                target = "actions" if allowed == actions_allowed else "percent"
                for message in service_texts(ValidationError([item])):
                    self.add_error(target, message)


class ClientLevelForm(forms.Form):
    client = forms.ModelChoiceField(queryset=None)  # type: ignore[arg-type]
    policy = forms.ModelChoiceField(
        SlaPolicy.objects.none(), required=False, empty_label="The default policy"
    )
    calendar = forms.ModelChoiceField(
        BusinessCalendar.objects.none(), required=False, empty_label="The policy's calendar"
    )

    def __init__(self, *args, user=None, clients=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        self.fields["policy"].queryset = SlaPolicy.objects.for_user(user)
        self.fields["calendar"].queryset = BusinessCalendar.objects.for_user(user)
