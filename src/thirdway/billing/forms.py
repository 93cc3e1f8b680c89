"""Forms of the billing pages; they only shape input, the services decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings

from thirdway.billing.connections_apart import MOST_WORKERS
from thirdway.billing.items import CHANGEABLE, ITEM_FIELDS
from thirdway.billing.models import (
    BillableItem,
    BillingSettings,
    ClientBillingDetails,
    Contract,
    ContractLine,
    ContractStatus,
    InvoiceLine,
    TimeEntry,
    ToolCost,
    Unit,
)
from thirdway.billing.services import CONTRACT_FIELDS, LINE_FIELDS, SETTINGS_FIELDS
from thirdway.clients.models import Client
from thirdway.network.models import Partner, Practice
from thirdway.tickets.models import Ticket


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"


class ServiceValidatedForm(forms.ModelForm):
    def _post_clean(self) -> None:
        """Model validation belongs to the service."""


class ContractForm(ServiceValidatedForm):
    class Meta:
        model = Contract
        fields = CONTRACT_FIELDS
        widgets = {
            "starts_on": DateInput,
            "ends_on": DateInput,
            "originated_on": DateInput,
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["originator"].queryset = Partner.objects.filter(is_active=True)
        self.fields["referrer"].queryset = Partner.objects.filter(is_active=True)
        self.fields["warn_at_percent"].required = False
        self.fields["warn_at_percent"].help_text = (
            "Block hours: warn the lead partner and the client admins once this share of the "
            "hours is used (empty: 80)."
        )
        self.fields["status"].required = False
        for name in ("block_minutes", "block_price", "fixed_price", "budget_minutes"):
            self.fields[name].required = False
        if self.instance.pk:
            for fixed in ("client", "practice", "kind"):
                del self.fields[fixed]
        for name in ("renewal_months", "notice_days"):
            self.fields[name].required = False

    def clean_renewal_months(self) -> int:
        """Left out: the contract's term as it is (0, no renewal, for a new one)."""
        value = self.cleaned_data.get("renewal_months")
        return self.instance.renewal_months if value is None else value

    def clean_notice_days(self) -> int:
        value = self.cleaned_data.get("notice_days")
        return self.instance.notice_days if value is None else value

    def _kept(self, name: str):
        """Left out: the contract's value as it is (the default for a new one)."""
        value = self.cleaned_data.get(name)
        return getattr(self.instance, name) if value is None else value

    def clean_block_minutes(self) -> int:
        return self._kept("block_minutes")

    def clean_block_price(self) -> Decimal:
        return self._kept("block_price")

    def clean_fixed_price(self) -> Decimal:
        return self._kept("fixed_price")

    def clean_budget_minutes(self) -> int:
        return self._kept("budget_minutes")

    def clean_warn_at_percent(self):
        value = self.cleaned_data.get("warn_at_percent")
        return 80 if value is None else value

    def clean_status(self) -> str:
        """Left out, a new contract is active and an existing one keeps its status."""
        return self.cleaned_data.get("status") or self.instance.status or ContractStatus.ACTIVE


class ContractLineForm(ServiceValidatedForm):
    class Meta:
        model = ContractLine
        fields = LINE_FIELDS
        widgets = {"starts_on": DateInput, "ends_on": DateInput}
        labels = {"after_hours_multiplier": "After-hours multiplier"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("starts_on", "quantity", "timing"):
            self.fields[name].required = False

    def clean_quantity(self) -> Decimal:
        """Left out: the line's quantity as it is (1 for a new line)."""
        value = self.cleaned_data.get("quantity")
        return self.instance.quantity if value is None else value

    def clean_timing(self) -> str:
        return self.cleaned_data.get("timing") or self.instance.timing


class TimeEntryForm(ServiceValidatedForm):
    class Meta:
        model = TimeEntry
        fields = [
            "partner",
            "contract_line",
            "worked_on",
            "start_time",
            "kind",
            "worked_minutes",
            "billable_minutes",
            "billing_status",
            "note",
        ]
        widgets = {"worked_on": DateInput, "start_time": TimeInput(format="%H:%M")}

    def __init__(self, *args, user, contracts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lines = ContractLine.objects.filter(contract__in=contracts, unit=Unit.HOUR)
        self.fields["contract_line"].queryset = lines.select_related("contract__client")
        self.fields["contract_line"].label_from_instance = lambda line: (
            f"{line.contract.client} · {line.contract.name} · {line.description}"
        )
        self.fields["billable_minutes"].required = False
        self.fields["billable_minutes"].help_text = "Empty: the minutes worked. Both are kept."
        self.fields["start_time"].help_text = (
            "Optional, in your time zone: time and materials bills the minutes outside the "
            "client's business hours at the after-hours rate."
        )
        if user.is_practice_admin:
            self.fields["partner"].queryset = Partner.objects.filter(is_active=True)
        else:
            del self.fields["partner"]


class MonthField(forms.DateField):
    """A month as ``YYYY-MM`` (the browser's month input), read as its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]


class RunForm(forms.Form):
    practice = forms.ModelChoiceField(queryset=Practice.objects.all())
    month = MonthField(help_text="The month billed, e.g. 2026-11.")
    workers = forms.IntegerField(
        label="Processes",
        min_value=1,
        max_value=MOST_WORKERS,
        required=False,
        help_text=f"Processes sharing the run and the approval on PostgreSQL, 1 to "
        f"{MOST_WORKERS} (SQLite uses one).",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workers"].initial = settings.BILLING_WORKERS

    def clean_workers(self) -> int:
        value = self.cleaned_data.get("workers")
        return settings.BILLING_WORKERS if value is None else value

    def clean_month(self) -> dt.date:
        return self.cleaned_data["month"].replace(day=1)


class StatementForm(forms.Form):
    month = MonthField(required=False)
    partner = forms.ModelChoiceField(queryset=Partner.objects.none(), required=False)

    def __init__(self, *args, partners, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners


class SettingsForm(ServiceValidatedForm):
    class Meta:
        model = BillingSettings
        fields = SETTINGS_FIELDS
        labels = {"after_hours_multiplier": "After-hours multiplier"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Left out (a form from before these existed): the value stays as it is.
        self.fields["clawback_months"].required = False
        self.fields["after_hours_multiplier"].required = False

    def clean_after_hours_multiplier(self) -> Decimal:
        """Left out: the practice's multiplier as it is (1.00 until changed)."""
        value = self.cleaned_data.get("after_hours_multiplier")
        return self.instance.after_hours_multiplier if value is None else value

    def clean_clawback_months(self) -> int:
        value = self.cleaned_data.get("clawback_months")
        return self.instance.clawback_months if value is None else value


class ToolCostForm(ServiceValidatedForm):
    class Meta:
        model = ToolCost
        fields = ["name", "unit", "rate"]
        labels = {"rate": "Rate per unit per month"}


class ClawbackForm(forms.Form):
    """A client whose referral fees to claw back now: one the user may see that has a
    contract with the practice."""

    client = forms.ModelChoiceField(queryset=Client.objects.none())

    def __init__(self, *args, user, practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        contracted = Contract.objects.for_user(user).filter(practice=practice).values("client")
        self.fields["client"].queryset = (
            Client.objects.for_user(user).filter(pk__in=contracted).order_by("name", "pk")
        )


class InvoiceLineForm(ServiceValidatedForm):
    class Meta:
        model = InvoiceLine
        fields = ["description", "quantity", "unit_price", "vat_category", "vat_rate"]


class ContractFilterForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), required=False)

    def __init__(self, *args, clients, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients


class LineChangeForm(forms.Form):
    """A new price or quantity of a contract line from a day (the month is prorated)."""

    effective_on = forms.DateField(widget=DateInput, help_text="The first day of the change.")
    price = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, help_text="Empty: unchanged."
    )
    quantity = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_value=100000,
        max_digits=12,
        decimal_places=2,
        help_text="Of a flat line only. Empty: unchanged.",
    )


class BillingDetailsForm(ServiceValidatedForm):
    class Meta:
        model = ClientBillingDetails
        fields = ["vat_id"]


class BillableItemForm(ServiceValidatedForm):
    class Meta:
        model = BillableItem
        fields = ITEM_FIELDS
        widgets = {"incurred_on": DateInput}
        labels = {"vat_category": "VAT category", "vat_rate": "VAT rate (%)"}

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        contracts = Contract.objects.for_user(user).select_related("client")
        if "client" in self.fields:
            self.fields["client"].queryset = Client.objects.for_user(user)
        else:  # an item changed keeps its client: its contracts only
            contracts = contracts.filter(client_id=self.instance.client_id)
        self.fields["contract"].queryset = contracts
        self.fields["contract"].label_from_instance = lambda c: f"{c.client} · {c.name}"
        self.fields["ticket"].queryset = Ticket.objects.for_user(user)
        self.fields["ticket"].widget = forms.NumberInput(attrs={"min": 1})
        self.fields["ticket"].help_text = "Optional: the ticket's number, of the same client."
        self.fields["unit_cost"].help_text = "What it cost the practice (0 or more)."
        self.fields["unit_price"].help_text = "What the client pays a unit (0 or more)."


class BillableItemChangeForm(BillableItemForm):
    """An item not billed yet, all but its practice and client."""

    class Meta(BillableItemForm.Meta):
        fields = CHANGEABLE
