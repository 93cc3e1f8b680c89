"""Every change to a practice's billing settings, contracts and time (the only writers).

Invoices and the ledger are written by :mod:`thirdway.billing.invoicing` and
:mod:`thirdway.billing.ledger`.  A refused value is a 400 naming the field; nothing is written.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from thirdway.audit.services import create_and_record, update_and_record
from thirdway.billing.access import may_book_time, may_correct_time, may_manage_billing
from thirdway.billing.contract_checks import _check_contract, _check_line, _check_notice
from thirdway.billing.engine import RulesRefused, SplitRules
from thirdway.billing.models import (
    BillingSettings,
    Contract,
    ContractLine,
    InvoiceKind,
    NumberSeries,
    TimeEntry,
    Unit,
)
from thirdway.errors import invalid, require

SETTINGS_FIELDS = [
    "currency",
    "invoice_prefix",
    "credit_note_prefix",
    "origination",
    "fade_years",
    "delivery",
    "delivery_basis",
    "pool",
    "network",
    "desk_fee",
    "referral",
    "clawback_months",
    "legal_name",
    "vat_id",
    "street",
    "postcode",
    "city",
    "country",
    "iban",
    "payment_days",
    "after_hours_multiplier",
]
CONTRACT_FIELDS = [
    "client",
    "practice",
    "kind",
    "name",
    "starts_on",
    "ends_on",
    "originator",
    "originated_on",
    "referrer",
    "block_minutes",
    "block_price",
    "warn_at_percent",
    "fixed_price",
    "budget_minutes",
    "status",
    "sla_policy",
    "renewal_months",
    "notice_days",
]
LINE_FIELDS = [
    "description",
    "unit",
    "role",
    "price",
    "vat_category",
    "vat_rate",
    "quantity",
    "timing",
    "after_hours_multiplier",
    "starts_on",
    "ends_on",
]
TIME_FIELDS = [
    "partner",
    "contract_line",
    "ticket",
    "worked_on",
    "start_time",
    "kind",
    "worked_minutes",
    "billable_minutes",
    "billing_status",
    "note",
]
MANAGE = "Only a practice admin may manage billing."


def _scope(client_id) -> str:
    return f"client:{client_id}"


# --- a practice's settings ---------------------------------------------------------------------


def rules_of(settings: BillingSettings) -> SplitRules:
    return SplitRules(
        name=str(settings.practice),
        origination=settings.origination,
        delivery=settings.delivery,
        pool=settings.pool,
        network=settings.network,
        desk_fee=settings.desk_fee,
        referral=settings.referral,
        fade_years=settings.fade_years,
        delivery_basis=settings.delivery_basis,
    )


def _check_rules(settings: BillingSettings) -> None:
    try:
        rules_of(settings).check()
    except RulesRefused as refused:
        raise invalid(refused.rule, refused.message, refused.allowed) from None


def _open_series(practice) -> None:
    for kind in InvoiceKind.values:
        NumberSeries.objects.get_or_create(practice=practice, kind=kind)


def settings_of(practice) -> BillingSettings:
    """A practice's billing settings, with the defaults until an admin changes them."""
    found = BillingSettings.objects.filter(practice=practice).first()
    if found is None:
        with transaction.atomic():
            found, _ = BillingSettings.objects.get_or_create(practice=practice)
            _open_series(practice)
    return found


@transaction.atomic
def update_settings(actor, practice, data: dict, *, source: str) -> BillingSettings:
    """Change the currency, numbering or split rules; rules that do not add up to 100 % are
    refused naming the rule."""
    require(may_manage_billing(actor), MANAGE)
    settings = settings_of(practice)
    if "currency" in data and data["currency"] != settings.currency:
        from thirdway.billing.models import Invoice

        if Invoice.objects.filter(practice=practice).exists():
            raise invalid(
                "currency",
                "The practice has invoices in its currency already.",
                f"{settings.currency}, the currency of its invoices",
            )
    for name, value in data.items():
        setattr(settings, name, value)
    _check_rules(settings)
    settings.refresh_from_db()
    return update_and_record(
        actor,
        settings,
        data,
        fields=SETTINGS_FIELDS,
        action="billing.settings",
        source=source,
        scope=f"practice:{practice.pk}",
    )


# --- contracts ---------------------------------------------------------------------------------


@transaction.atomic
def create_contract(actor, *, source: str, **data) -> Contract:
    require(may_manage_billing(actor), MANAGE)
    contract = Contract(**data)
    if contract.originated_on is None and contract.originator_id is not None:
        contract.originated_on = contract.starts_on
    _check_contract(contract)
    settings_of(contract.practice)
    return create_and_record(
        actor,
        contract,
        fields=CONTRACT_FIELDS,
        action="contract.create",
        source=source,
        scope=_scope(contract.client_id),
    )


@transaction.atomic
def update_contract(actor, contract: Contract, data: dict, *, source: str) -> Contract:
    require(may_manage_billing(actor), MANAGE)
    for fixed in ("client", "practice", "kind"):
        if fixed in data and data[fixed] != getattr(contract, fixed):
            raise invalid(fixed, "This cannot change once the contract exists.", "its value")
    candidate = Contract.objects.get(pk=contract.pk)
    for name, value in data.items():
        setattr(candidate, name, value)
    _check_contract(candidate)
    _check_notice(contract, candidate)
    return update_and_record(
        actor,
        contract,
        data,
        fields=CONTRACT_FIELDS,
        action="contract.update",
        source=source,
        scope=_scope(contract.client_id),
    )


@transaction.atomic
def add_contract_line(actor, contract: Contract, *, source: str, **data) -> ContractLine:
    """Add a priced line; a rate change is a new line from its effective date (end the old)."""
    require(may_manage_billing(actor), MANAGE)
    line = ContractLine(contract=contract, **data)
    if line.starts_on is None:
        line.starts_on = contract.starts_on
    _check_line(line)
    return create_and_record(
        actor,
        line,
        fields=LINE_FIELDS,
        action="contract_line.create",
        source=source,
        scope=_scope(contract.client_id),
    )


@transaction.atomic
def update_contract_line(actor, line: ContractLine, data: dict, *, source: str) -> ContractLine:
    require(may_manage_billing(actor), MANAGE)
    if line.time_entries.filter(invoice_line__isnull=False).exists() and (
        {"price", "unit", "role"} & set(data)
    ):
        raise invalid(
            "price",
            "Time was invoiced at this price already.",
            "end this line and add one from the date the new price applies",
        )
    candidate = ContractLine.objects.select_related("contract").get(pk=line.pk)
    for name, value in data.items():
        setattr(candidate, name, value)
    _check_line(candidate)
    return update_and_record(
        actor,
        line,
        data,
        fields=LINE_FIELDS,
        action="contract_line.update",
        source=source,
        scope=_scope(line.contract.client_id),
    )


@transaction.atomic
def change_line_from(actor, line: ContractLine, effective_on, *, source: str, **data):
    """A new price or quantity from ``effective_on``: the line ends the day before and a copy
    with the change starts that day, so the month of the change is prorated between the two."""
    require(may_manage_billing(actor), MANAGE)
    line = ContractLine.objects.select_for_update().select_related("contract").get(pk=line.pk)
    if effective_on <= line.starts_on or (line.ends_on and effective_on > line.ends_on):
        until = line.ends_on or "open-ended"
        raise invalid(
            "effective_on",
            "The change falls outside the line's effective dates.",
            f"a day after {line.starts_on} and up to {until}",
        )
    late = line.time_entries.filter(worked_on__gte=effective_on).order_by("-worked_on").first()
    if late is not None:
        raise invalid(
            "effective_on",
            f"Time is booked on this line on {late.worked_on}.",
            f"a day after {late.worked_on}",
        )
    changed = {name: value for name, value in data.items() if value is not None}
    if not changed:
        raise invalid("price", "Nothing changes.", "a new price or quantity")
    fields = {name: getattr(line, name) for name in LINE_FIELDS}
    fields.update(changed, starts_on=effective_on)
    successor = ContractLine(contract=line.contract, **fields)
    _check_line(successor)
    update_and_record(
        actor,
        line,
        {"ends_on": effective_on - dt.timedelta(days=1)},
        fields=LINE_FIELDS,
        action="contract_line.update",
        source=source,
        scope=_scope(line.contract.client_id),
    )
    return create_and_record(
        actor,
        successor,
        fields=LINE_FIELDS,
        action="contract_line.create",
        source=source,
        scope=_scope(line.contract.client_id),
    )


# --- time --------------------------------------------------------------------------------------


def _check_time(actor, entry: TimeEntry) -> None:
    entry.full_clean()
    line = entry.contract_line
    if line.unit != Unit.HOUR:
        raise invalid("contract_line", "Time is booked on hourly lines only.", "an hourly line")
    if line.role and line.role != entry.partner.kind:
        raise invalid(
            "contract_line",
            f"This line prices {line.get_role_display().lower()} time.",
            f"a line for {entry.partner.get_kind_display().lower()}s or for any role",
        )
    if entry.worked_on < line.starts_on or (line.ends_on and entry.worked_on > line.ends_on):
        raise invalid(
            "worked_on",
            "The day falls outside the line's effective dates.",
            f"a day from {line.starts_on} to {line.ends_on or 'today'}",
        )
    if entry.ticket_id is not None and entry.ticket.client_id != line.contract.client_id:
        raise invalid("ticket", "The ticket is another client's.", "a ticket of this client")


def _time_written(entry: TimeEntry) -> None:
    from thirdway.billing import blocks

    blocks.check_threshold(entry.contract_line.contract)


@transaction.atomic
def record_time(actor, *, source: str, **data) -> TimeEntry:
    """Book time on an hourly contract line, in its week (which must be open or rejected); a
    partner books their own, an admin anyone's."""
    from thirdway.billing import timesheets

    require(may_book_time(actor), "You may not book time.")
    own = getattr(actor, "partner", None)
    if not actor.is_practice_admin:
        if own is None:
            raise invalid("partner", "You are not a partner of the network.", "your own time")
        if data.get("partner") not in (None, own):
            raise invalid("partner", "You book your own time only.", f"your own id ({own.pk})")
        data["partner"] = own
    data.setdefault("billable_minutes", data.get("worked_minutes"))
    _check_not_negative(data)
    entry = TimeEntry(**data)
    _check_time(actor, entry)
    sheet = timesheets.sheet_for(entry.partner, entry.worked_on)
    timesheets.check_editable(sheet)
    entry.timesheet = sheet
    made = create_and_record(
        actor,
        entry,
        fields=TIME_FIELDS,
        action="time.create",
        source=source,
        scope=_scope(entry.contract_line.contract.client_id),
    )
    _time_written(made)
    return made


def _check_not_negative(data: dict) -> None:
    for name in ("worked_minutes", "billable_minutes"):
        value = data.get(name)
        if value is not None and value < 0:
            raise invalid(name, "Minutes are not negative.", "0 to 1440")


@transaction.atomic
def update_time(actor, entry: TimeEntry, data: dict, *, source: str) -> TimeEntry:
    """Change an entry of an open or rejected week; a locked week's entry is corrected by
    :func:`correct_time` instead."""
    from thirdway.billing import timesheets

    require(may_book_time(actor), "You may not book time.")
    require(
        actor.is_practice_admin or entry.partner.user_id == actor.pk,
        "You change your own time only.",
    )
    entry = TimeEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.invoice_line_id is not None:
        raise invalid("invoice_line", "The entry is invoiced already.", "an entry not invoiced")
    if entry.reverses_id is not None:
        raise invalid("reverses", "A reversing entry does not change.", "another entry")
    if "partner" in data and not actor.is_practice_admin:
        raise invalid("partner", "You book your own time only.", "leave the partner out")
    if entry.timesheet_id is not None:
        timesheets.check_editable(entry.timesheet, "timesheet")
    _check_not_negative(data)
    candidate = TimeEntry.objects.get(pk=entry.pk)
    for name, value in data.items():
        setattr(candidate, name, value)
    _check_time(actor, candidate)
    if "worked_on" in data or "partner" in data:
        sheet = timesheets.sheet_for(candidate.partner, candidate.worked_on)
        timesheets.check_editable(sheet)
        data = {**data, "timesheet": sheet}
    updated = update_and_record(
        actor,
        entry,
        data,
        fields=[*TIME_FIELDS, "timesheet"],
        action="time.update",
        source=source,
        scope=_scope(entry.contract_line.contract.client_id),
    )
    _time_written(updated)
    return updated


def reverse_and_replace(actor, entry: TimeEntry, data: dict, *, source: str) -> TimeEntry | None:
    """Correct an entry of a locked week: post its reversal (negative minutes, the same day and
    line) and, unless the correction is to nothing, a new entry; both go to the partner's first
    week that is not locked.  No row of the locked week is touched.  Returns the new entry."""
    from thirdway.billing import timesheets

    if TimeEntry.objects.filter(reverses=entry).exists():
        raise invalid("reverses", "The entry is reversed already.", "its replacement")
    sheet = timesheets.unlocked_sheet(entry.partner, timesheets.today_of(entry.partner))
    scope = _scope(entry.contract_line.contract.client_id)
    reversal = TimeEntry(
        partner=entry.partner,
        contract_line=entry.contract_line,
        ticket=entry.ticket,
        article=entry.article,
        timesheet=sheet,
        reverses=entry,
        worked_on=entry.worked_on,
        start_time=entry.start_time,
        kind=entry.kind,
        worked_minutes=-entry.worked_minutes,
        billable_minutes=-entry.billable_minutes,
        billing_status=entry.billing_status,
        note=f"Reverses the entry of {entry.worked_on}"[:500],
    )
    create_and_record(
        actor, reversal, fields=TIME_FIELDS, action="time.reverse", source=source, scope=scope
    )
    fields = {
        name: getattr(entry, name)
        for name in (
            "partner",
            "contract_line",
            "ticket",
            "article",
            "worked_on",
            "start_time",
            "kind",
            "worked_minutes",
            "billable_minutes",
            "billing_status",
            "note",
        )
    }
    if "worked_minutes" in data and "billable_minutes" not in data:
        data = {**data, "billable_minutes": data["worked_minutes"]}
    fields.update(data)
    if not fields["worked_minutes"] and not fields["billable_minutes"]:
        _time_written(reversal)
        return None
    _check_not_negative(fields)
    replacement = TimeEntry(timesheet=sheet, **fields)
    _check_time(actor, replacement)
    made = create_and_record(
        actor, replacement, fields=TIME_FIELDS, action="time.create", source=source, scope=scope
    )
    _time_written(made)
    return made


@transaction.atomic
def correct_time(actor, entry: TimeEntry, data: dict, *, source: str) -> TimeEntry | None:
    """Change an entry: in place while its week is open or rejected, by a reversing entry and
    a new one once its week is locked (or the entry invoiced)."""
    require(may_book_time(actor), "You may not book time.")
    require(may_correct_time(actor, entry), "You change your own time only.")
    entry = (
        TimeEntry.objects.select_for_update(of=("self",))
        .select_related("timesheet")
        .get(pk=entry.pk)
    )
    if "partner" in data and not actor.is_practice_admin:
        raise invalid("partner", "You book your own time only.", "leave the partner out")
    locked = entry.invoice_line_id is not None or (
        entry.timesheet is not None and entry.timesheet.is_locked
    )
    if not locked:
        return update_time(actor, entry, data, source=source)
    if entry.reverses_id is not None:
        raise invalid("reverses", "A reversing entry does not change.", "another entry")
    return reverse_and_replace(actor, entry, data, source=source)
