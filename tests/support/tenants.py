"""The objects of each client for the isolation sweep of every room: one of each kind for Acme
and one for Globex, made as the practice admin would make them (through the API where it can
create the object, through the room's services where only the system does), and every row of
every room, to tell that a refused call wrote nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.test import Client as HttpClient

from support.api import API
from thirdway.audit.models import Source

# What a row may change on a call that writes nothing: when a token was last used.
VOLATILE = {"accounts.ApiToken": {"last_used_at"}}


def rows() -> dict[str, list[dict]]:
    """Every row of every model of the project, ordered by key (the audit trail included)."""
    found = {}
    for model in apps.get_models():
        if not model.__module__.startswith("thirdway."):
            continue
        label = model._meta.label
        skip = VOLATILE.get(label, set())
        found[label] = [
            {key: value for key, value in row.items() if key not in skip}
            for row in model._default_manager.order_by("pk").values()
        ]
    return found


def changed(before: dict[str, list[dict]], after: dict[str, list[dict]]) -> list[str]:
    """The models whose rows differ between two snapshots of ``rows()``."""
    return sorted(label for label in before if before[label] != after.get(label))


def _post(admin: HttpClient, url: str, payload: Any) -> dict:
    response = admin.post(API + url, data=json.dumps(payload), content_type="application/json")
    assert response.status_code in (200, 201), (url, response.content)
    return response.json()


# The payloads of the creates, by kind, for the client named ``client`` (an id) and the tenant's
# name, which every object carries so that a leak shows in any answer.
def ticket_payload(client: Any, name: str) -> dict:
    return {"client": client, "subject": f"{name} printer jam", "body_text": f"{name} secret"}


def webhook_payload(client: Any, name: str) -> dict:
    slug = name.lower()
    return {"name": f"{name} hook", "url": f"https://hooks.{slug}.example/t", "client": client}


def check_payload(client: Any, name: str) -> dict:
    slug = name.lower()
    made = {"name": f"{name} shop", "kind": "http", "target": f"https://{slug}.example/"}
    return made if client is None else {"client": client, **made}


def window_payload(client: Any, name: str) -> dict:
    return {
        "client": client,
        "name": f"{name} patching",
        "kind": "weekly",
        "weekdays": [6],
        "start_time": "01:00",
        "duration_minutes": 60,
    }


def intake_payload(client: Any, name: str) -> dict:
    return {"client": client, "name": f"{name} intake"}


def agent_token_payload(client: Any, name: str) -> dict:
    return {"client": client, "note": f"{name} enrolment"}


def contract_payload(client: Any, name: str, practice: Any = "{practice}") -> dict:
    return {
        "client": client,
        "practice": practice,
        "kind": "time_materials",
        "name": f"{name} support",
        "starts_on": "2026-01-01",
    }


def schedule_payload(client: Any, name: str) -> dict:
    return {
        "client": client,
        "name": f"{name} patching",
        "rule": "FREQ=WEEKLY;BYDAY=SU",
        "starts_at": "2026-01-04T01:00:00Z",
    }


def credential_payload(client: Any, name: str) -> dict:
    return {
        "client": client,
        "name": f"{name} router",
        "username": f"{name.lower()}-admin",
        "secret": f"{name}-hunter2",
    }


def document_payload(client: Any, name: str) -> dict:
    return {"client": client, "title": f"{name} runbook", "markdown": f"{name} secret steps"}


def expiration_payload(client: Any, name: str) -> dict:
    return {
        "client": client,
        "kind": "domain",
        "name": f"{name.lower()}.example",
        "expires_on": "2031-05-01",
    }


def item_payload(client: Any, name: str, practice: Any = "{practice}") -> dict:
    return {
        "practice": practice,
        "client": client,
        "description": f"{name} cable",
        "unit_price": "10.00",
        "incurred_on": "2026-11-03",
    }


def run_payload(client: Any, name: str, playbook: int) -> dict:
    return {"playbook": playbook, "client": client}


def _published_playbook(admin: HttpClient, practice: int) -> int:
    playbook = _post(admin, "/playbooks", {"practice": practice, "name": "Onboarding"})
    _post(admin, f"/playbooks/{playbook['id']}/steps", {"title": "Label the router"})
    _post(admin, f"/playbooks/{playbook['id']}/publish", {})
    return playbook["id"]


def build(cast, admin: HttpClient) -> dict[str, dict[str, int]]:
    """For ``acme`` and ``globex``: the id of each object of the sweep, by kind."""
    from thirdway.billing.models import Timesheet
    from thirdway.monitoring import agents, evaluation
    from thirdway.monitoring import services as monitoring
    from thirdway.monitoring.engine import Status
    from thirdway.monitoring.models import Alert
    from thirdway.network import services as network
    from thirdway.tickets.assignment import switches
    from thirdway.vault.services import files

    # A practice of no partner: its unassigned tickets (the playbook's steps) sit in no
    # partner's pool, so a partner sees an object only through the client it serves.
    practice = network.create_practice(cast.admin, name="Backups", source=Source.CLI).pk
    playbook = _published_playbook(admin, practice)
    # A practice of no partner that links the repeats of an incident under it.
    storms = network.create_practice(cast.admin, name="Storms", source=Source.CLI)
    switches.set_switches(cast.admin, storms, {"link_incidents": True}, source=Source.CLI)
    made = {}
    for tenant, client, name in (("acme", cast.acme, "Acme"), ("globex", cast.globex, "Globex")):
        lead = cast.partner_record if tenant == "acme" else cast.other_partner_record
        ids: dict[str, int] = {
            "client": client.pk,
            "practice": practice,
            "site": (cast.acme_site if tenant == "acme" else cast.globex_site).pk,
            "asset": (cast.acme_server if tenant == "acme" else cast.globex_laptop).pk,
            "contact": (
                cast.acme_user_contact if tenant == "acme" else cast.globex_user_contact
            ).pk,
            "partner": lead.pk,
            "lead_user": lead.user_id,
        }
        ticket = _post(admin, "/tickets", ticket_payload(client.pk, name))
        other = _post(admin, "/tickets", ticket_payload(client.pk, f"{name} second"))
        ids["ticket"], ids["other_ticket"] = ticket["id"], other["id"]
        closed = _post(admin, "/tickets", ticket_payload(client.pk, f"{name} closed"))
        _post(admin, f"/tickets/{closed['id']}/status", {"status": "closed"})
        ids["closed_ticket"] = closed["id"]
        link = _post(admin, f"/tickets/{ticket['id']}/links", {"target": other["id"]})
        ids["link"] = link["id"]
        upload = admin.post(
            f"{API}/tickets/{ticket['id']}/attachments",
            data={"files": ContentFile(f"{name} log".encode(), name=f"{name}.txt")},
        )
        assert upload.status_code == 201, upload.content
        ids["article"] = upload.json()["id"]
        ids["attachment"] = upload.json()["attachments"][0]["id"]
        ids["webhook"] = _post(admin, "/webhooks", webhook_payload(client.pk, name))["id"]
        check = monitoring.create_check(
            cast.admin, client, **check_payload(None, name), max_attempts=1, source=Source.CLI
        )
        ids["check"] = check.pk
        evaluation.record_result(check.pk, Status.CRITICAL, output=f"{name} down")
        alert = Alert.objects.get(check_obj=check)
        ids["alert"] = alert.pk
        assert alert.incident_id is not None
        ids["incident"] = alert.incident_id
        ids["incident_link"] = _incident_link(admin, client.pk, name, storms.pk)
        ids["offer"] = _offer(admin, client.pk, name, lead)
        ids["message"] = _quarantined(ticket["number"], name)
        ids["rating"] = _rating(closed["id"], name)
        ids["window"] = _post(admin, "/monitoring/windows", window_payload(client.pk, name))["id"]
        ids["intake_token"] = _post(
            admin, "/monitoring/intake-tokens", intake_payload(client.pk, name)
        )["id"]
        ids["agent_token"] = _post(
            admin, "/monitoring/agent-tokens", agent_token_payload(client.pk, name)
        )["id"]
        _, enrolment = agents.issue_enrolment_token(cast.admin, client, source=Source.CLI)
        agent, _ = agents.enrol(enrolment, hostname=f"{name.lower()}-srv", os_name="Debian")
        ids["agent"] = agent.pk
        contract = _post(admin, "/contracts", contract_payload(client.pk, name, practice))
        ids["contract"] = contract["id"]
        line = _post(
            admin,
            f"/contracts/{contract['id']}/lines",
            {"description": f"{name} hours", "unit": "hour", "price": "90.00"},
        )
        ids["line"] = line["id"]
        block = _post(
            admin,
            "/contracts",
            {
                **contract_payload(client.pk, f"{name} block", practice),
                "kind": "block_hours",
                "block_minutes": 600,
            },
        )
        ids["block"] = block["id"]
        ids["project"], ids["milestone"] = _project(admin, client.pk, name, practice)
        entry = _post(
            admin,
            "/time-entries",
            {
                "contract_line": line["id"],
                "worked_on": "2026-11-03",
                "worked_minutes": 60,
                "partner": lead.pk,
                "note": f"{name} visit",
            },
        )
        ids["entry"] = entry["id"]
        ids["sheet"] = Timesheet.objects.get(partner=lead).pk
        ids["item"] = _post(admin, "/billing/items", item_payload(client.pk, name, practice))["id"]
        ids["schedule"] = _post(admin, "/maintenance-schedules", schedule_payload(client.pk, name))[
            "id"
        ]
        ids["run"] = _post(admin, "/playbook-runs", run_payload(client.pk, name, playbook))["id"]
        ids["credential"] = _post(admin, "/vault/credentials", credential_payload(client.pk, name))[
            "id"
        ]
        ids["document"] = _post(admin, "/vault/documents", document_payload(client.pk, name))["id"]
        ids["expiration"] = _post(admin, "/vault/expirations", expiration_payload(client.pk, name))[
            "id"
        ]
        root = files.root_of(client)
        folder = files.create_folder(None, root, f"{name} contracts", source=Source.CLI)
        stored = files.upload_file(
            None,
            folder,
            f"{name} lease.txt",
            ContentFile(f"{name} terms".encode()),
            source=Source.CLI,
        )
        ids["root"], ids["folder"], ids["file"] = root.pk, folder.pk, stored.pk
        made[tenant] = ids
    _invoice(cast, practice, made)
    _reports(cast, made)
    for ids in made.values():
        ids["playbook"] = playbook
        ids["scope"] = "client"  # type: ignore[assignment]  (a word of the path, not an id)
    return made


def _project(admin: HttpClient, client: int, name: str, practice: int) -> tuple[int, int]:
    """A fixed-fee project with its line and one milestone, not done yet: (contract, milestone)."""
    project = _post(
        admin,
        "/contracts",
        {
            **contract_payload(client, f"{name} website", practice),
            "kind": "project",
            "fixed_price": "1000.00",
            "budget_minutes": 600,
        },
    )
    _post(
        admin,
        f"/contracts/{project['id']}/lines",
        {"description": f"{name} project time", "unit": "hour", "price": "100.00"},
    )
    plan = {"milestones": [{"name": f"{name} launch", "amount": "1000.00", "due_on": "2026-12-15"}]}
    response = admin.put(
        f"{API}/contracts/{project['id']}/milestones",
        data=json.dumps(plan),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return project["id"], response.json()["milestones"][0]["id"]


def _incident_link(admin: HttpClient, client: int, name: str, storms: int) -> int:
    """Two tickets of one outage in a practice that links incidents: the repeat is linked
    under the first."""
    from thirdway.tickets.assignment.models import IncidentLink

    payloads = [
        {**ticket_payload(client, f"{name} tills offline"), "practice": storms} for _ in range(2)
    ]
    first, repeat = (_post(admin, "/tickets", payload) for payload in payloads)
    return IncidentLink.objects.get(parent_id=first["id"], child_id=repeat["id"]).pk


def _offer(admin: HttpClient, client: int, name: str, lead) -> int:
    """On-site work offered to the client's lead partner beyond their radius, as the
    dispatcher offers it (``offers.make_offer``), open for them to accept or decline."""
    from django.utils import timezone

    from thirdway.dispatch import engine
    from thirdway.tickets.assignment import offers
    from thirdway.tickets.models import Ticket

    made = _post(admin, "/tickets", ticket_payload(client, f"{name} server room flooded"))
    now = timezone.now()
    stretched = engine.Candidate(
        partner_id=lead.pk,
        partner_name=lead.name,
        kind="partner",
        total=0.0,
        terms={},
        tier=0,
        escalated=False,
        overridden=None,
        start_at=now,
        wait=dt.timedelta(0),
        cover="shift",
        cover_until=None,
        time_zone="UTC",
        practice="backups",
        level=3,
        distance_km=84.0,
        open_load=0,
        capacity=5,
        continuity="lead",
        stretched="radius: site is 84 km away, serves 60 km",
        stretched_limits=("radius",),
        stretch_why="nobody within their limits can respond in time",
    )
    ticket = Ticket.objects.get(pk=made["id"])
    return offers.make_offer(ticket, stretched, None, now).pk  # type: ignore[arg-type]


def _quarantined(number: str, name: str) -> int:
    """A stranger's mail naming the client's ticket: quarantined, not added to it."""
    from email.message import EmailMessage

    from thirdway.mail import services as mail
    from thirdway.mail.models import InboundSource, InboundStatus

    raw = EmailMessage()
    raw["From"] = "stranger@nowhere.example"
    raw["To"] = "help@desk.example"
    raw["Subject"] = f"Re: [{number}] {name} printer jam"
    raw["Message-ID"] = f"<{name.lower()}-stranger@nowhere.example>"
    raw.set_content(f"{name} let me in")
    message, _ = mail.receive_and_process(raw.as_bytes(), mailbox=None, source=InboundSource.PIPE)
    assert message.status == InboundStatus.QUARANTINED, message.reason
    return message.pk


def _rating(closed: int, name: str) -> int:
    """The client's rating of its closed ticket, from the link of the resolution mail."""
    from thirdway.insights import services as insights
    from thirdway.tickets.models import Ticket

    token = insights.rating_token(Ticket.objects.get(pk=closed))
    return insights.rate_ticket(
        None, token, score=4, comment=f"{name} was pleased", source=Source.CLI
    ).pk


MONTH = dt.date(2026, 11, 1)


def _reports(cast, made: dict[str, dict[str, int]]) -> None:
    """November's report of each client, made and released to its admins."""
    from thirdway.clients.models import Client
    from thirdway.insights import services as insights

    for ids in made.values():
        client = Client.objects.get(pk=ids["client"])
        report = insights.make_report(cast.admin, client, "monthly", MONTH, source=Source.CLI)
        insights.release_report(cast.admin, report, source=Source.CLI)
        ids["report"] = report.pk


def _invoice(cast, practice: int, made: dict[str, dict[str, int]]) -> None:
    """Approve the weeks of time and run November's invoices: a draft for each client."""
    from thirdway.billing import invoicing, timesheets
    from thirdway.billing.models import Invoice, Timesheet
    from thirdway.network.models import Practice

    for sheet in Timesheet.objects.order_by("pk"):
        timesheets.submit(cast.admin, sheet, source=Source.CLI)
        timesheets.approve(cast.admin, sheet, source=Source.CLI)
    invoicing.run_invoices(cast.admin, Practice.objects.get(pk=practice), MONTH, source=Source.CLI)
    for ids in made.values():
        ids["invoice"] = Invoice.objects.get(client_id=ids["client"]).pk
