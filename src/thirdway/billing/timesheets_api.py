"""The API of partners' weekly timesheets: submitted by the partner, approved (locked) or rejected
by a practice admin or the partner's practice lead.  Mounted beside the billing room's other
endpoints; the operation ids are those they had in billing/api.py."""

import datetime as dt
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from thirdway.audit.models import Source
from thirdway.billing import timesheets
from thirdway.billing.api import TimeOut
from thirdway.billing.models import TimeEntry, Timesheet
from thirdway.payloads import Id, Page, Payload

router = Router()


# --- weekly timesheets -------------------------------------------------------------------------

SheetStateName = Literal["open", "submitted", "approved", "rejected"]


class BillingTimesheetOut(Schema):
    id: int
    partner_id: int
    partner_name: str
    week_start: dt.date
    week_end: dt.date
    state: str
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    decided_by_id: int | None
    reason: str
    worked_minutes: int
    billable_minutes: int
    entries: list[TimeOut]

    @staticmethod
    def resolve_partner_name(obj: Timesheet) -> str:
        return obj.partner.name

    @staticmethod
    def resolve_week_end(obj: Timesheet) -> dt.date:
        return obj.week_start + dt.timedelta(days=6)

    @staticmethod
    def resolve_worked_minutes(obj: Timesheet) -> int:
        return sum(entry.worked_minutes for entry in obj.entries.all())

    @staticmethod
    def resolve_billable_minutes(obj: Timesheet) -> int:
        return sum(entry.billable_minutes for entry in obj.entries.all())

    @staticmethod
    def resolve_entries(obj: Timesheet) -> list[TimeEntry]:
        return sorted(obj.entries.all(), key=lambda entry: (entry.worked_on, entry.pk))


class BillingRejectIn(Payload, extra="forbid"):
    reason: str = Field(min_length=1, max_length=500)


def _sheets(request):
    return (
        Timesheet.objects.for_user(request.auth)
        .select_related("partner")
        .prefetch_related("entries")
    )


@router.get(
    "/timesheets",
    response=list[BillingTimesheetOut],
    operation_id="thirdway_billing_api_list_timesheets",
)
@paginate(Page)
def list_timesheets(
    request,
    partner: Id | None = None,
    state: SheetStateName | None = None,
    week: dt.date | None = None,
):
    """Weeks one may see: one's own; a practice admin every partner's, a practice lead their
    practice's.  ``week`` is any day of the week wanted."""
    sheets = _sheets(request)
    if partner is not None:
        sheets = sheets.filter(partner_id=partner)
    if state:
        sheets = sheets.filter(state=state)
    if week is not None:
        sheets = sheets.filter(week_start=timesheets.week_of(week))
    return sheets


@router.get(
    "/timesheets/{sheet_id}",
    response=BillingTimesheetOut,
    operation_id="thirdway_billing_api_get_timesheet",
)
def get_timesheet(request, sheet_id: int):
    return get_object_or_404(_sheets(request), pk=sheet_id)


@router.post(
    "/timesheets/{sheet_id}/submit",
    response=BillingTimesheetOut,
    operation_id="thirdway_billing_api_submit_timesheet",
)
def submit_timesheet(request, sheet_id: int):
    sheet = get_object_or_404(_sheets(request), pk=sheet_id)
    timesheets.submit(request.auth, sheet, source=Source.API)
    return _sheets(request).get(pk=sheet.pk)


@router.post(
    "/timesheets/{sheet_id}/approve",
    response=BillingTimesheetOut,
    operation_id="thirdway_billing_api_approve_timesheet",
)
def approve_timesheet(request, sheet_id: int):
    """Approve a submitted week (a practice admin or the partner's practice lead, never the
    partner): it is locked, and its time may be invoiced."""
    sheet = get_object_or_404(_sheets(request), pk=sheet_id)
    timesheets.approve(request.auth, sheet, source=Source.API)
    return _sheets(request).get(pk=sheet.pk)


@router.post(
    "/timesheets/{sheet_id}/reject",
    response=BillingTimesheetOut,
    operation_id="thirdway_billing_api_reject_timesheet",
)
def reject_timesheet(request, sheet_id: int, payload: BillingRejectIn):
    sheet = get_object_or_404(_sheets(request), pk=sheet_id)
    timesheets.reject(request.auth, sheet, payload.reason, source=Source.API)
    return _sheets(request).get(pk=sheet.pk)
