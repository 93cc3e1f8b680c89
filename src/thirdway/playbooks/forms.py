"""Forms of templates, steps, runs and schedules: they shape input, the services decide."""

from __future__ import annotations

from django import forms

from thirdway.network.models import Practice
from thirdway.playbooks import library
from thirdway.playbooks.models import (
    ConditionMatch,
    ConditionOperator,
    Evidence,
    OnHoliday,
    OwnerRole,
    Playbook,
    ScheduleMakes,
)


class CopyBuiltinForm(forms.Form):
    builtin = forms.ChoiceField(
        label="Built-in", choices=[(b.key, b.name) for b in library.BUILTINS]
    )
    practice = forms.ModelChoiceField(queryset=Practice.objects.none(), label="For the practice")

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices
        if len(practices) == 1:
            self.fields["practice"].initial = practices[0].pk


class NewPlaybookForm(forms.Form):
    name = forms.CharField(max_length=150)
    practice = forms.ModelChoiceField(queryset=Practice.objects.none())
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, practices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practice"].queryset = practices
        if len(practices) == 1:
            self.fields["practice"].initial = practices[0].pk


def _more_condition(number: int) -> tuple[forms.Field, forms.Field, forms.Field]:
    """The step, answer and value fields of a step's condition ``number`` (2 to 4)."""
    return (
        forms.IntegerField(
            min_value=1, max_value=100, required=False, label=f"Condition {number}: step"
        ),
        forms.ChoiceField(
            choices=[("", "—"), *ConditionOperator.choices],
            required=False,
            label=f"Condition {number}: answer",
        ),
        forms.CharField(max_length=200, required=False, label=f"Condition {number}: compared with"),
    )


class StepForm(forms.Form):
    title = forms.CharField(max_length=200)
    instructions = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    owner_practice = forms.ModelChoiceField(
        queryset=Practice.objects.all(), required=False, label="Owner practice"
    )
    owner_role = forms.ChoiceField(choices=OwnerRole.choices, required=False, label="Owner role")
    expected_minutes = forms.IntegerField(
        min_value=1, max_value=129_600, initial=60, label="Expected minutes"
    )
    evidence = forms.ChoiceField(choices=Evidence.choices, label="Evidence required")
    blocking = forms.BooleanField(required=False, label="Blocks the steps after it")
    condition_step = forms.IntegerField(
        min_value=1,
        max_value=100,
        required=False,
        label="Only if step",
        help_text="An earlier step that asks for evidence; leave empty: always applies.",
    )
    condition_operator = forms.ChoiceField(
        choices=[("", "—"), *ConditionOperator.choices], required=False, label="Its answer"
    )
    condition_value = forms.CharField(
        max_length=200, required=False, label="Value", help_text='e.g. "yes", or a number'
    )
    condition_step_2, condition_operator_2, condition_value_2 = _more_condition(2)
    condition_step_3, condition_operator_3, condition_value_3 = _more_condition(3)
    condition_step_4, condition_operator_4, condition_value_4 = _more_condition(4)
    condition_match = forms.ChoiceField(
        choices=ConditionMatch.choices,
        initial=ConditionMatch.ALL,
        required=False,
        label="Applies when",
        help_text="With more than one condition: all of them (and) or any one (or).",
    )
    subplaybook = forms.ModelChoiceField(
        queryset=Playbook.objects.none(),
        required=False,
        label="Runs the playbook",
        help_text="A published playbook of the same practice: the step is done when its run is.",
    )

    def __init__(self, *args, playbook: Playbook, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subplaybook"].queryset = (
            Playbook.objects.filter(practice_id=playbook.practice_id)
            .filter(versions__published_at__isnull=False)
            .exclude(pk=playbook.pk)
            .distinct()
        )

    def clean(self):
        cleaned = super().clean()
        for n in range(1, 5):
            suffix = "" if n == 1 else f"_{n}"
            given = cleaned.get(f"condition_operator{suffix}") or cleaned.get(
                f"condition_value{suffix}"
            )
            if given and cleaned.get(f"condition_step{suffix}") is None:
                self.add_error(
                    f"condition_step{suffix}", "Name the step whose answer this compares."
                )
        return cleaned

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data["owner_practice"] = data["owner_practice"].pk if data["owner_practice"] else None
        data["subplaybook"] = data["subplaybook"].pk if data["subplaybook"] else None
        data["condition_match"] = data.get("condition_match") or ConditionMatch.ALL
        return data


class StartRunForm(forms.Form):
    client = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients


class EvidenceForm(forms.Form):
    """The evidence of one step, shaped by what the step asks for."""

    evidence = forms.CharField(required=False, max_length=5000)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        if kind == Evidence.CHECKBOX:
            self.fields["evidence"] = forms.BooleanField(required=False, label="Done and checked")
        elif kind == Evidence.YES_NO:
            self.fields["evidence"] = forms.ChoiceField(
                required=False,
                label="Answer",
                choices=[("", "Choose"), ("yes", "Yes"), ("no", "No")],
            )
        elif kind == Evidence.VALUE:
            self.fields["evidence"].label = "Value"
        elif kind == Evidence.FILE:
            self.fields["evidence"].label = "File reference"
        elif kind == Evidence.TEXT:
            self.fields["evidence"].widget = forms.Textarea(attrs={"rows": 2})
            self.fields["evidence"].label = "Evidence"
        else:
            self.fields["evidence"].label = "Note (optional)"


class ScheduleForm(forms.Form):
    client = forms.ModelChoiceField(queryset=None)
    name = forms.CharField(max_length=150)
    rule = forms.CharField(
        max_length=500,
        help_text="An RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=1MO;BYHOUR=8;BYMINUTE=0",
    )
    starts_at = forms.DateTimeField(
        label="Starts",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    lead_minutes = forms.IntegerField(
        min_value=0, max_value=86_400, initial=1440, label="Lead time (minutes ahead)"
    )
    makes = forms.ChoiceField(choices=ScheduleMakes.choices)
    playbook = forms.ModelChoiceField(queryset=None, required=False)
    site = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Optional: a site of the client."
    )
    asset = forms.ModelChoiceField(
        queryset=None, required=False, help_text="Optional: an asset of the client."
    )
    on_holiday = forms.ChoiceField(
        choices=OnHoliday.choices,
        initial=OnHoliday.SKIP,
        required=False,
        label="On a holiday or closed day",
        help_text="Read from the client's business calendar; a move goes at most 14 days ahead.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args, clients, playbooks, sites, assets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        self.fields["playbook"].queryset = playbooks
        self.fields["site"].queryset = sites
        self.fields["asset"].queryset = assets

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("client")
        for name in ("playbook", "site", "asset"):
            data[name] = data[name].pk if data[name] else None
        if not data["on_holiday"]:
            data.pop("on_holiday")  # not given: the schedule keeps its choice (skip when new)
        return data


class FeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        label="Score",
        coerce=int,
        empty_value=None,
        choices=[("", "Choose a score")]
        + [
            (n, f"{n} – {word}")
            for n, word in enumerate(("poor", "weak", "fair", "good", "excellent"), start=1)
        ],
        help_text="1 (poor) to 5 (excellent)",
    )
    comment = forms.CharField(
        required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=1000, label="Why reopen it")
