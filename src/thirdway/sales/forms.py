"""Forms of the sales pages; the services validate and refuse (their errors show beside the
field)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from thirdway.network.models import Partner, Practice
from thirdway.sales.models import Lead, Stage
from thirdway.sales.services import LEAD_FIELDS
from thirdway.sla.models import SlaPolicy

LINE_ROWS = 6


class DateInput(forms.DateInput):
    input_type = "date"


class LeadForm(forms.ModelForm):
    practices = forms.ModelMultipleChoiceField(
        queryset=Practice.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Needs (practices)",
    )

    class Meta:
        model = Lead
        fields = LEAD_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        labels = {"referrer": "Referring partner", "town": "Town or location"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        active = Partner.objects.filter(is_active=True).order_by("name")
        self.fields["referrer"].queryset = active
        self.fields["owner"].queryset = active
        self.fields["owner"].required = False
        self.fields["owner"].help_text = "Empty: you."
        if self.instance.pk:
            self.fields["practices"].initial = list(self.instance.practices.all())

    def _post_clean(self) -> None:
        """Model validation belongs to the service."""

    def data_for_service(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("practices", None)
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=250)


class OpportunityForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.all())
    title = forms.CharField(max_length=200)
    monthly_value = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=2, initial=Decimal(0)
    )
    expected_close = forms.DateField(required=False, widget=DateInput)


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices)
    reason = forms.CharField(max_length=250, required=False, label="Reason (when lost)")


class ProposalForm(forms.Form):
    """The terms, and up to ``LINE_ROWS`` service lines (empty rows are left out)."""

    term_months = forms.IntegerField(min_value=1, max_value=120, initial=12)
    notice_days = forms.IntegerField(min_value=0, max_value=365, initial=30)
    sla_policy = forms.ModelChoiceField(
        queryset=SlaPolicy.objects.all(), required=False, label="SLA policy"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, LINE_ROWS + 1):
            self.fields[f"line{n}_description"] = forms.CharField(
                max_length=200, required=False, label=f"Service {n}"
            )
            self.fields[f"line{n}_quantity"] = forms.DecimalField(
                min_value=Decimal("0.01"),
                max_digits=10,
                decimal_places=2,
                required=False,
                label="Quantity",
            )
            self.fields[f"line{n}_unit_price"] = forms.DecimalField(
                min_value=Decimal(0),
                max_digits=14,
                decimal_places=2,
                required=False,
                label="Unit price per month",
            )

    def rows(self):
        """The line fields, three per row, for the template."""
        return [
            (
                self[f"line{n}_description"],
                self[f"line{n}_quantity"],
                self[f"line{n}_unit_price"],
            )
            for n in range(1, LINE_ROWS + 1)
        ]

    def clean(self):
        data = super().clean()
        lines = []
        for n in range(1, LINE_ROWS + 1):
            description = data.get(f"line{n}_description")
            quantity, price = data.get(f"line{n}_quantity"), data.get(f"line{n}_unit_price")
            if not description and quantity is None and price is None:
                continue
            if not description:
                self.add_error(f"line{n}_description", "Describe the service.")
            if quantity is None:
                self.add_error(f"line{n}_quantity", "Give a quantity.")
            if price is None:
                self.add_error(f"line{n}_unit_price", "Give a price.")
            lines.append({"description": description, "quantity": quantity, "unit_price": price})
        if not lines and not self.errors:
            self.add_error("line1_description", "A proposal has at least one service.")
        data["lines"] = lines
        return data


class AcceptForm(forms.Form):
    name = forms.CharField(max_length=150, label="Your full name")
    agree = forms.BooleanField(label="I accept this proposal on behalf of the company named above.")


class DeclineForm(forms.Form):
    reason = forms.CharField(
        max_length=250, required=False, label="Reason (optional)", widget=forms.TextInput
    )
