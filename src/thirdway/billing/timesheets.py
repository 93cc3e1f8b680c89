"""Weekly timesheets: a partner's week goes open → submitted → approved (locked) or rejected.

A week runs Monday to Sunday in the partner's own time zone.  Time is booked and changed only in
an open or rejected week; a submitted week waits for its decision; an approved week is locked for
good and changes only by a reversing entry (negative minutes) and a new entry, both posted in the
partner's first week that is not locked.  The invoice run bills only the time of approved weeks.

Timesheet approval is separate from billing approval: the practice admin, or the practice lead
of a practice the partner works in, decides; never the partner whose week it is.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from thirdway.audit.services import record
from thirdway.billing.access import may_decide_timesheet
from thirdway.billing.models import TimeEntry, Timesheet, TimesheetState
from thirdway.errors import invalid, require
from thirdway.tickets.lifecycle import TransitionRefused

REASON_LENGTH = 500
DONE = {"submit": "submitted", "approve": "approved", "reject": "rejected"}
# What each state may become, and by which act.
MOVES = {
    TimesheetState.OPEN: {"submit": TimesheetState.SUBMITTED},
    TimesheetState.REJECTED: {"submit": TimesheetState.SUBMITTED},
    TimesheetState.SUBMITTED: {
        "approve": TimesheetState.APPROVED,
        "reject": TimesheetState.REJECTED,
    },
    TimesheetState.APPROVED: {},
}


class TimesheetRefused(TransitionRefused):
    """A move the week's state does not allow (409), with the acts it does."""

    def __init__(self, sheet: Timesheet, act: str) -> None:
        self.current = sheet.state  # type: ignore[assignment]
        self.wanted = act
        self.allowed = sorted(MOVES[TimesheetState(sheet.state)])
        choices = ", ".join(self.allowed) or "none (an approved week is locked)"
        ValueError.__init__(
            self,
            f"The week of {sheet.week_start} is {sheet.get_state_display().lower()}: it cannot "
            f"be {DONE.get(act, act)}. Allowed: {choices}.",
        )


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def today_of(partner) -> dt.date:
    """Today in the partner's own time zone."""
    return timezone.now().astimezone(ZoneInfo(partner.time_zone)).date()


def day_of(partner, moment: dt.datetime) -> dt.date:
    return moment.astimezone(ZoneInfo(partner.time_zone)).date()


def sheet_for(partner, day: dt.date) -> Timesheet:
    """The partner's timesheet of ``day``'s week (made open when first needed)."""
    sheet, _ = Timesheet.objects.get_or_create(partner=partner, week_start=week_of(day))
    return sheet


def unlocked_sheet(partner, day: dt.date) -> Timesheet:
    """The partner's first week from ``day``'s that is not locked: corrections go there."""
    sheet = sheet_for(partner, day)
    while sheet.is_locked:
        sheet = sheet_for(partner, sheet.week_start + dt.timedelta(days=7))
    return sheet


def check_editable(sheet: Timesheet, field: str = "worked_on") -> None:
    """Time is booked or changed only in an open or rejected week (a 400 naming the field)."""
    if sheet.is_editable:
        return
    if sheet.is_locked:
        message = (
            f"The week of {sheet.week_start} is approved and locked; correct its time by a "
            "reversing entry."
        )
    else:
        message = f"The week of {sheet.week_start} is submitted; it changes again only if rejected."
    raise invalid(field, message, "a day of an open or rejected week")


def _locked(sheet: Timesheet) -> Timesheet:
    return (
        Timesheet.objects.select_for_update(of=("self",)).select_related("partner").get(pk=sheet.pk)
    )


def _move(actor, sheet: Timesheet, act: str, source: str, **more) -> Timesheet:
    target = MOVES[TimesheetState(sheet.state)].get(act)
    if target is None:
        raise TimesheetRefused(sheet, act)
    before = sheet.state
    sheet.state = target
    for name, value in more.items():
        setattr(sheet, name, value)
    sheet.save()
    changes = {"state": [before, target]}
    if sheet.reason and act == "reject":
        changes["reason"] = [None, sheet.reason]
    record(
        actor,
        f"timesheet.{act}",
        sheet,
        source=source,
        scope=f"partner:{sheet.partner_id}",
        changes=changes,
    )
    return sheet


@transaction.atomic
def submit(actor, sheet: Timesheet, *, source: str) -> Timesheet:
    """The partner (or a practice admin for them) hands the week in for approval."""
    sheet = _locked(sheet)
    require(
        actor.is_practice_admin or sheet.partner.user_id == actor.pk,
        "You submit your own weeks only.",
    )
    return _move(actor, sheet, "submit", source, submitted_at=timezone.now(), reason="")


@transaction.atomic
def approve(actor, sheet: Timesheet, *, source: str) -> Timesheet:
    """Approve a submitted week: it is locked for good, and its time may be invoiced."""
    sheet = _locked(sheet)
    _require_decider(actor, sheet)
    return _move(actor, sheet, "approve", source, decided_at=timezone.now(), decided_by=actor)


@transaction.atomic
def reject(actor, sheet: Timesheet, reason: str, *, source: str) -> Timesheet:
    """Send a submitted week back with a reason; the partner may change it and submit again."""
    reason = (reason or "").strip()
    if not reason:
        raise invalid("reason", "Say why the week is rejected.", "a reason of 1 to 500 characters")
    if len(reason) > REASON_LENGTH:
        raise invalid(
            "reason",
            f"The reason is {len(reason)} characters long.",
            f"a reason of 1 to {REASON_LENGTH} characters",
        )
    sheet = _locked(sheet)
    _require_decider(actor, sheet)
    return _move(
        actor, sheet, "reject", source, decided_at=timezone.now(), decided_by=actor, reason=reason
    )


def _require_decider(actor, sheet: Timesheet) -> None:
    if sheet.partner.user_id == actor.pk:
        require(False, "You may not approve or reject your own week.")
    require(
        may_decide_timesheet(actor, sheet),
        "Only a practice admin or the partner's practice lead decides on a week.",
    )


def week_entries(sheet: Timesheet):
    return (
        TimeEntry.objects.filter(timesheet=sheet)
        .select_related("contract_line__contract__client", "ticket", "reverses", "reversed_by")
        .order_by("worked_on", "pk")
    )


def week_total(sheet: Timesheet) -> tuple[int, int]:
    """(worked, billable) minutes of the week, reversals included."""
    worked = billable = 0
    for entry in TimeEntry.objects.filter(timesheet=sheet).only(
        "worked_minutes", "billable_minutes"
    ):
        worked += entry.worked_minutes
        billable += entry.billable_minutes
    return worked, billable
