"""API of surges in the desk: which skills are in surge now, and the routine tickets held
until their surge is over (``assignment.surge``). The desk and practice admins see every
skill and hold; a partner their own skills and the holds of tickets they see; anyone else
nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Router, Schema

from thirdway.tickets.assignment import surge

router = Router()


class SurgeSkillOut(Schema):
    practice_id: int
    practice: str
    surge_on: bool
    surge_ratio: float
    surge_defers_p3: bool
    not_started: int
    partners_at_work: int
    held: int
    in_surge: bool


class SurgeHeldOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    subject: str
    priority: int
    practice: str
    held_at: dt.datetime
    why: str


class DispatchSurgeOut(Schema):
    skills: list[SurgeSkillOut]
    held: list[SurgeHeldOut]


@router.get("/dispatch-surge", response=DispatchSurgeOut)
def get_dispatch_surge(request):
    """Skills with their surge setting and count now, and the open holds, oldest first."""
    skills, holds = surge.panel(request.auth, timezone.now())
    return {
        "skills": [
            {
                "practice_id": row["practice"].pk,
                "practice": row["practice"].name,
                "surge_on": row["on"],
                "surge_ratio": row["ratio"],
                "surge_defers_p3": row["defers_p3"],
                "not_started": row["waiting"],
                "partners_at_work": row["partners_on"],
                "held": row["held"],
                "in_surge": row["in_surge"],
            }
            for row in skills
        ],
        "held": [
            {
                "id": hold.pk,
                "ticket_id": hold.ticket_id,
                "ticket_number": hold.ticket.number,
                "subject": hold.ticket.subject,
                "priority": hold.ticket.priority,
                "practice": hold.practice.name,
                "held_at": hold.held_at,
                "why": hold.why,
            }
            for hold in holds
        ],
    }
