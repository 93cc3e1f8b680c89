"""What a contract and a contract line must be before they are written: the checks
:mod:`thirdway.billing.services` (and the renewals) run, each refusal a 400 naming the field."""

from __future__ import annotations

from django.db.models import Q

from thirdway.billing.after_hours import SURCHARGED_KINDS
from thirdway.billing.models import (
    Contract,
    ContractKind,
    ContractLine,
    Timing,
    Unit,
    VatCategory,
)
from thirdway.errors import invalid

UNITS_OF = {
    ContractKind.MANAGED: {Unit.FLAT, Unit.DEVICE, Unit.USER},
    ContractKind.TIME_AND_MATERIALS: {Unit.HOUR},
    ContractKind.BLOCK_HOURS: {Unit.HOUR},
    ContractKind.PROJECT: {Unit.HOUR},  # the project's time, tracked at the line's rate
}


def _check_overlap(contract: Contract) -> None:
    """Contracts of one kind of one client never overlap."""
    others = Contract.objects.filter(client=contract.client_id, kind=contract.kind).exclude(
        pk=contract.pk
    )
    if contract.ends_on is not None:
        others = others.filter(starts_on__lte=contract.ends_on)
    clash = others.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=contract.starts_on)).first()
    if clash is not None:
        until = clash.ends_on.isoformat() if clash.ends_on else "open-ended"
        raise invalid(
            "starts_on",
            f"The client has a {clash.get_kind_display().lower()} contract from "
            f"{clash.starts_on.isoformat()} ({until}) already: {clash.name}.",
            "dates that do not overlap another contract of the same kind for this client",
        )


def _check_contract(contract: Contract) -> None:
    contract.full_clean()
    _check_overlap(contract)
    if contract.renewal_months and contract.ends_on is None:
        raise invalid(
            "renewal_months",
            "An open-ended contract does not renew.",
            "0, or give the contract an end date",
        )
    if contract.kind == ContractKind.BLOCK_HOURS and contract.block_minutes <= 0:
        raise invalid(
            "block_minutes", "A block-hours contract needs its prepaid minutes.", "1 or more"
        )
    if contract.kind == ContractKind.PROJECT:
        from thirdway.billing import projects

        projects.check_price(contract)


def _check_notice(before: Contract, after: Contract) -> None:
    """Once the notice date has passed, the next term is due: the renewal is not stopped."""
    from django.utils import timezone

    if before.renews_on is None:
        return
    shortened = after.ends_on is None or after.ends_on < before.ends_on
    stopped = not after.renewal_months or shortened
    if stopped and timezone.localdate() > before.notice_by:
        raise invalid(
            "renewal_months",
            f"Notice was due by {before.notice_by}; the contract renews on {before.renews_on}.",
            f"the renewal as it is until the term ending {before.ends_on} has renewed",
        )


def _check_line(line: ContractLine) -> None:
    line.full_clean()
    contract = line.contract
    allowed = UNITS_OF[contract.kind]
    if line.unit not in allowed:
        raise invalid(
            "unit",
            f"A {contract.get_kind_display().lower()} contract has no {line.unit} lines.",
            ", ".join(sorted(allowed)),
        )
    if line.vat_category == VatCategory.STANDARD and line.vat_rate <= 0:
        raise invalid("vat_rate", "The standard category has a rate above 0.", "above 0 to 100")
    if line.vat_category != VatCategory.STANDARD and line.vat_rate != 0:
        raise invalid(
            "vat_rate", f"Category {line.vat_category} is taxed at 0 %.", "0 for this category"
        )
    if line.starts_on < contract.starts_on or (
        contract.ends_on and (line.ends_on is None or line.ends_on > contract.ends_on)
    ):
        raise invalid(
            "starts_on",
            "The line's dates fall outside the contract's.",
            f"dates within {contract.starts_on} to {contract.ends_on or 'open-ended'}",
        )
    if line.ends_on is not None and line.ends_on < line.starts_on:
        raise invalid("ends_on", "The line ends before it starts.", "a date on or after the start")
    if line.unit != Unit.FLAT and line.quantity != 1:
        raise invalid(
            "quantity",
            f"A {line.get_unit_display().lower()} line counts its quantity on the billing date.",
            "1 (only a flat line has a fixed quantity)",
        )
    if line.unit == Unit.HOUR and line.timing != Timing.ARREARS:
        raise invalid("timing", "An hourly line bills the time worked.", "arrears")
    if line.after_hours_multiplier is not None and contract.kind not in SURCHARGED_KINDS:
        raise invalid(
            "after_hours_multiplier",
            "Only time and materials and block hours count time after hours at a multiplier.",
            "empty for this contract",
        )
