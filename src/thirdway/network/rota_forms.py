"""Forms of the rota settings; they shape input, the services decide."""

from __future__ import annotations

from django import forms

from thirdway.network.models import Partner, Practice, Rota

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RotaForm(forms.ModelForm):
    class Meta:
        model = Rota
        fields = [
            "name",
            "practice",
            "kind",
            "time_zone",
            "handover_time",
            "starts_on",
            "covers_24x7",
        ]
        widgets = {
            "handover_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "starts_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"covers_24x7": "Must cover 24x7"}
        help_texts = {
            "practice": "Empty: a desk rota, the last resort of every practice.",
            "starts_on": "The first member is on call from this day's hand-over.",
            "time_zone": "e.g. Europe/Paris; hand-overs happen in this zone.",
        }

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        practices = Practice.objects.for_user(user)
        if user is not None and not user.is_practice_admin:
            practices = practices.filter(lead__user=user)  # a lead runs their own practice's
        self.fields["practice"].queryset = practices
        self.fields["practice"].empty_label = "The desk"

    def _post_clean(self) -> None:
        """Model validation happens in the service, so the form does not clean the model."""


def _active_partners():
    return Partner.objects.filter(is_active=True).order_by("name")


class MemberForm(forms.Form):
    partner = forms.ModelChoiceField(_active_partners(), label="Add a member")


class OverrideForm(forms.Form):
    partner = forms.ModelChoiceField(_active_partners(), label="On call")
    starts_at = forms.DateTimeField(label="From", widget=DATETIME)
    ends_at = forms.DateTimeField(label="Until", widget=DATETIME)
    reason = forms.CharField(max_length=200, required=False)


class SwapForm(forms.Form):
    """Two partners exchange duties: each covers the other's stretch."""

    first = forms.ModelChoiceField(_active_partners(), label="Partner A")
    first_starts_at = forms.DateTimeField(label="A's duty from", widget=DATETIME)
    first_ends_at = forms.DateTimeField(label="A's duty until", widget=DATETIME)
    second = forms.ModelChoiceField(_active_partners(), label="Partner B")
    second_starts_at = forms.DateTimeField(label="B's duty from", widget=DATETIME)
    second_ends_at = forms.DateTimeField(label="B's duty until", widget=DATETIME)


class WeekForm(forms.Form):
    week = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
