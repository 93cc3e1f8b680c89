from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from thirdway.audit.models import Source
from thirdway.playbooks import schedules, services
from thirdway.playbooks.models import Playbook, Run, Schedule


@dataclass
class Books:
    incident: Playbook
    run: Run
    schedule: Schedule


@pytest.fixture
def books(cast) -> Books:
    """Security's copy of incident response, a run of it at Acme, and a schedule at Acme."""
    incident = services.copy_builtin(
        cast.admin, "security_incident", practice_id=cast.security.pk, source=Source.CLI
    )
    run = services.start_run(cast.partner, incident, cast.acme, source=Source.CLI)
    schedule = schedules.save_schedule(
        cast.partner,
        cast.acme,
        {
            "name": "Monthly patching",
            "rule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=8;BYMINUTE=0",
            "starts_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "makes": "ticket",
        },
        source=Source.CLI,
    )
    return Books(incident, run, schedule)
