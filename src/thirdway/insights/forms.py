"""The rating form (a click on one of the buttons sends the score), and the client reports'
forms: making a report now, and the practice's auto-release rule."""

from __future__ import annotations

from django import forms

from thirdway.insights.models import (
    AUTO_RELEASE_MAX,
    COMMENT_LENGTH,
    NPS_DAY_MAX,
    NPS_FOLLOW_UP_MAX,
    THRESHOLD_BOUNDS,
    InsightThresholds,
    Rating,
)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(choices=Rating.choices, coerce=int)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything to add? (optional)",
    )


class MakeReportForm(forms.Form):
    """Make the draft of one ended month or quarter for a client now."""

    client = forms.TypedChoiceField(coerce=int, choices=())
    cadence = forms.ChoiceField(
        choices=[("monthly", "Month"), ("quarterly", "Quarter")], label="Period"
    )
    month = forms.DateField(
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        label="Month (a quarter: any month of it)",
        help_text="YYYY-MM",
    )

    def __init__(self, *args, clients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [(c.pk, c.name) for c in clients]

    def clean_month(self):
        month = self.cleaned_data["month"]
        if not 2000 <= month.year <= 2099:
            raise forms.ValidationError("A month from 2000-01 to 2099-12.")
        return month


class ReportPolicyForm(forms.Form):
    auto_release_days = forms.IntegerField(
        min_value=0,
        max_value=AUTO_RELEASE_MAX,
        label="Release drafts by themselves after (days)",
        help_text=f"0: never, a person releases each report; at most {AUTO_RELEASE_MAX}.",
    )


class NpsForm(forms.Form):
    """The recommendation question: one of eleven buttons sends the score."""

    score = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(11)], coerce=int)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What is the main reason for your score? (optional)",
    )


class NpsPolicyForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Ask client contacts each quarter")
    day_of_quarter = forms.IntegerField(
        min_value=1,
        max_value=NPS_DAY_MAX,
        label="On day of the quarter",
        help_text=f"1 to {NPS_DAY_MAX}: 1 is the first day of January, April, July, October.",
    )
    follow_up_detractors = forms.BooleanField(
        required=False,
        label="A low score opens a follow-up ticket for the lead partner",
    )
    follow_up_at_most = forms.IntegerField(
        required=False,  # left out: stays as it is
        min_value=0,
        max_value=NPS_FOLLOW_UP_MAX,
        label="A low score is one of at most",
        help_text=f"0 to {NPS_FOLLOW_UP_MAX}; detractors answer 0 to 6, 9 and 10 promote.",
    )


def _threshold_field(name: str) -> forms.Field:
    _, least, most = THRESHOLD_BOUNDS[name]
    model_field = InsightThresholds._meta.get_field(name)
    kind = forms.FloatField if name == "csat_low_average" else forms.IntegerField
    extra = {"widget": forms.NumberInput(attrs={"step": "0.1"})} if kind is forms.FloatField else {}
    return kind(
        min_value=least,
        max_value=most,
        label=model_field.help_text,
        help_text=f"{least:g} to {most:g}; by default {model_field.default:g}.",
        **extra,
    )


class ThresholdsForm(forms.Form):
    """The practice's thresholds, grouped on the page as the fieldsets name them."""

    GROUPS = (
        ("Follow-up tickets", ("csat_follow_up_at_most",)),
        (
            "Recommendations in client reports",
            (
                "repeat_asset_tickets",
                "repeat_subject_tickets",
                "repeat_check_alerts",
                "sla_target_percent",
                "csat_low_average",
                "csat_min_count",
                "expiry_soon_days",
            ),
        ),
        ("Risks in client reports", ("expiry_horizon_days",)),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in THRESHOLD_BOUNDS:
            self.fields[name] = _threshold_field(name)

    def groups(self) -> list[tuple[str, list]]:
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]
