"""The form of a practice's dispatch settings (Settings → Dispatch → a practice)."""

from __future__ import annotations

from django import forms

from thirdway.tickets.assignment.models import WhenFree

WEIGHT_LABELS = {"sla_slack": "SLA slack", "travel_speed_kmh": "Travel speed (km/h)"}
WEIGHT_HELP = {
    "sla_slack": "How much starting late against the SLA costs.",
    "skill_fit": "How much sending an expert to easy work costs.",
    "travel": "How much an hour of driving costs (on-site work).",
    "load": "How much a full workload costs.",
    "continuity": "How much a partner new to the client costs.",
    "scarcity": "What other work costs the only holder of a skill (one of two: half); 0 is off.",
    "recent_partner_share": "How much of the lead's bonus a recent partner gets (0 to 1).",
    "travel_speed_kmh": "Average door-to-door speed, km/h.",
}


class PracticeDispatchForm(forms.Form):
    """Auto-dispatch and the practice's own weights; an empty weight keeps the site-wide one."""

    auto_dispatch = forms.BooleanField(
        required=False,
        label="Assign new tickets automatically",
        help_text="Off: the desk assigns them, with the ranking as a suggestion.",
    )
    move_late = forms.BooleanField(
        required=False,
        label="Move urgent tickets nobody has started",
        help_text="A P1, or a ticket whose response is late, that its partner has not started "
        "and cannot take now (off shift, away, full) goes once to the partner ranked first.",
    )
    offer_timeout_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=240,
        label="Minutes to answer an offer",
        help_text="On-site work offered beyond a partner's radius or shift goes to someone else "
        "when they have not accepted it within this time (1-240; empty keeps it).",
    )
    preempt = forms.BooleanField(
        required=False,
        label="Let a P1 interrupt routine work",
        help_text="A P1 nobody can start before its response is due goes to a partner at work "
        "on a P3 or P4, who sets it aside (it stays theirs, with its time kept).",
    )
    link_incidents = forms.BooleanField(
        required=False,
        label="Link repeats of an incident",
        help_text="A new ticket of the same client and skill within 15 minutes of an open one "
        "(same site and asset where both name them) is linked under it; only the first is "
        "dispatched.",
    )
    when_free = forms.ChoiceField(
        choices=WhenFree.choices,
        required=False,
        label="When a partner comes free",
        help_text="They finish a ticket, start a shift or come back: the most urgent ticket of "
        "this practice they may take is offered to them, or taken for them at once; never while "
        "they have a ticket in progress or are off shift (left out: kept).",
    )

    surge = forms.BooleanField(
        required=False,
        label="Hold routine work in a surge",
        help_text="While this skill's tickets not started outnumber its partners at work by the "
        "ratio below, a new P4 is held (shown in the queue, takeable by hand) and dispatched "
        "in arrival order once the surge is over.",
    )
    surge_ratio = forms.FloatField(
        required=False,
        min_value=1.0,
        max_value=10.0,
        label="Surge ratio",
        help_text="Tickets not started per partner at work above which the skill is in surge "
        "(1.0-10.0; empty keeps it).",
        widget=forms.NumberInput(attrs={"step": "0.1"}),
    )
    surge_defers_p3 = forms.BooleanField(
        required=False,
        label="Hold P3 work too in a surge",
        help_text="Off: only P4 work is held.",
    )

    def __init__(self, *args, site: dict[str, float], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, value in site.items():
            self.fields[name] = forms.FloatField(
                required=False,
                label=WEIGHT_LABELS.get(name, name.replace("_", " ").capitalize()),
                help_text=f"{WEIGHT_HELP.get(name, '')} Site-wide: {value:g}; empty keeps it.",
                widget=forms.NumberInput(attrs={"step": "any", "placeholder": f"{value:g}"}),
            )

    def weights(self) -> dict:
        switches = (
            "auto_dispatch",
            "move_late",
            "offer_timeout_minutes",
            "preempt",
            "link_incidents",
            "when_free",
            "surge",
            "surge_ratio",
            "surge_defers_p3",
        )
        return {name: value for name, value in self.cleaned_data.items() if name not in switches}
