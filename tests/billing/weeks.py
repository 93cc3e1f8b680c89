"""Approving weeks in tests: the invoice run bills only approved time."""

from thirdway.audit.models import Source


def approve_weeks(cast) -> None:
    """Submit and approve every week not decided yet (the invoice run bills approved time)."""
    from thirdway.billing import timesheets
    from thirdway.billing.models import Timesheet

    for sheet in Timesheet.objects.exclude(state="approved").order_by("pk"):
        if sheet.state != "submitted":
            timesheets.submit(cast.admin, sheet, source=Source.CLI)
        timesheets.approve(cast.admin, sheet, source=Source.CLI)
