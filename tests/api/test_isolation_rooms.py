"""Tenant isolation of every room, operation by operation, over every operation of /api/v1.

Each client (Acme and Globex) gets one object of each kind; then every role that does not see
one of the clients calls every operation on that client's objects. An object of a client the
caller does not see answers exactly as an object that does not exist (404, or the 403 of an
operation the role may never call), carries none of the client's data, and nothing is written.
Lists never show the other client's objects, and a payload naming the other client's objects
is refused, with nothing written.

The table below names every operation of the OpenAPI document; a new operation fails
``test_every_operation_is_swept_or_exempted`` until it has an entry. The accounts, network and
clients rooms are swept role by role, with their exact rules, in ``test_isolation.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client as HttpClient

from support import tenants
from support.api import API, assert_refused
from thirdway.audit.models import AuditRecord

# Every role of the cast that does not see one of the two clients, with the clients whose
# objects it must not reach: the practice admin and the desk see both and are not here.
FOREIGN = {
    "partner": ("globex",),
    "associate": ("globex",),
    "client_admin": ("globex",),
    "client_user": ("globex",),
    "other_partner": ("acme",),
    "other_client_admin": ("acme",),
    "other_client_user": ("acme",),
    "outsider": ("acme", "globex"),
}
# What every answer about a client carries somewhere (its name, its people's addresses, the
# names given to its objects): an answer to someone who does not see it must not.
MARK = {"acme": "acme", "globex": "globex"}
OWN = {"acme": "globex", "globex": "acme"}
MISSING = 987654


@dataclass(frozen=True)
class Alien:
    """An operation on an object of the other client: answers as for a missing object."""

    method: str
    url: str  # ``{ticket}`` stands for the id of the tenant's object of that kind
    payload: Any = None
    multipart: bool = False


@dataclass(frozen=True)
class Listed:
    """A list (or a summary): shows nothing of the other client. ``{client}`` in the query is
    the other client's id, asked for on purpose."""

    url: str
    kind: str = ""  # the kind of the listed objects: the other client's must not be listed


@dataclass(frozen=True)
class Reach:
    """A write on the caller's own side whose payload names the other client's object, by
    ``field``: refused with a 400 naming the field, or a 403/404, and nothing written."""

    method: str
    url: str  # ``{own:kind}`` is the caller's own object, ``{kind}`` the other client's
    payload: Any
    field: str
    multipart: bool = False
    # A bulk write answers 200 and lists each object it refused.
    bulk: bool = False


@dataclass(frozen=True)
class Exempt:
    """An operation outside the sweep, and why; ``where`` names the tests of its own rules."""

    method: str
    url: str
    reason: str
    where: str


def _ticket(c):
    return {"client": c, "subject": "Printer", "body_text": "Jammed"}


SWEEP = [
    # --- tickets ------------------------------------------------------------------------------
    Listed("/tickets", "ticket"),
    Listed("/tickets?client={client}", "ticket"),
    Listed("/tickets/search?q=printer"),
    Reach("POST", "/tickets", {"client": "{client}", "subject": "Printer"}, "client"),
    Reach(
        "POST",
        "/tickets",
        {"client": "{own:client}", "subject": "Printer", "asset": "{asset}"},
        "asset",
    ),
    Reach(
        "POST",
        "/tickets",
        {"client": "{own:client}", "subject": "Printer", "site": "{site}"},
        "site",
    ),
    Alien("GET", "/tickets/{ticket}"),
    Alien("PATCH", "/tickets/{ticket}", {"subject": "Taken"}),
    Alien("POST", "/tickets/{ticket}/reply", {"body_text": "Hello"}),
    Alien("POST", "/tickets/{ticket}/note", {"body_text": "Hello"}),
    Alien("POST", "/tickets/{ticket}/status", {"status": "closed"}),
    Alien("POST", "/tickets/{ticket}/assign", {"partner": None}),
    Alien("POST", "/tickets/{ticket}/priority", {"priority": 1}),
    Alien("POST", "/tickets/{ticket}/merge", {"into": "{other_ticket}"}),
    Alien("POST", "/tickets/{ticket}/split", {"articles": ["{article}"]}),
    Alien("POST", "/tickets/{ticket}/links", {"target": "{other_ticket}"}),
    Alien("DELETE", "/tickets/{ticket}/links/{link}"),
    Alien("GET", "/tickets/{ticket}/articles"),
    Alien(
        "POST",
        "/tickets/{ticket}/attachments",
        {"files": "file"},
        multipart=True,
    ),
    Alien("GET", "/tickets/attachments/{attachment}"),
    Reach("POST", "/tickets/{own:ticket}/merge", {"into": "{ticket}"}, "into"),
    Reach("POST", "/tickets/{own:ticket}/links", {"target": "{ticket}"}, "target"),
    Reach(
        "POST",
        "/tickets/bulk",
        {"tickets": ["{ticket}"], "status": "closed"},
        "tickets",
        bulk=True,
    ),
    Reach(
        "POST",
        "/tickets",
        {"client": "{own:client}", "subject": "Printer", "requester": "{contact}"},
        "requester",
    ),
    Reach("PATCH", "/tickets/{own:ticket}", {"asset": "{asset}"}, "asset"),
    Reach("PATCH", "/tickets/{own:ticket}", {"site": "{site}"}, "site"),
    Reach("PATCH", "/tickets/{own:ticket}", {"requester": "{contact}"}, "requester"),
    Reach("POST", "/tickets/{own:ticket}/split", {"articles": ["{article}"]}, "articles"),
    Reach("DELETE", "/tickets/{own:ticket}/links/{link}", None, "link"),
    Listed("/webhooks", "webhook"),
    Reach("PATCH", "/webhooks/{own:webhook}", {"client": "{client}"}, "client"),
    Reach("POST", "/webhooks", tenants.webhook_payload("{client}", "X"), "client"),
    Alien("PATCH", "/webhooks/{webhook}", {"name": "Taken"}),
    Alien("DELETE", "/webhooks/{webhook}"),
    Alien("GET", "/webhooks/{webhook}/deliveries"),
    Listed("/dispatch-offers", "offer"),
    Alien("POST", "/dispatch-offers/{offer}/accept"),
    Alien("POST", "/dispatch-offers/{offer}/decline", {"reason": "Too far"}),
    Listed("/incident-links", "incident_link"),
    Listed("/incident-links?ticket={ticket}"),
    Alien("GET", "/incident-links/{incident_link}"),
    Alien("DELETE", "/incident-links/{incident_link}"),
    Listed("/dispatch-surge"),
    # --- insights -----------------------------------------------------------------------------
    Alien("GET", "/insights/tickets/{closed_ticket}/rating-link"),
    Listed("/insights/ratings", "rating"),
    Alien("GET", "/insights/ratings/{rating}"),
    Listed("/insights/ratings-by/{scope}"),
    Listed("/insights/figures"),
    Listed("/insights/scorecard"),
    Alien("GET", "/insights/scorecard/{partner}"),
    Listed("/insights/reports", "report"),
    Listed("/insights/reports?client_id={client}", "report"),
    Alien("GET", "/insights/reports/{report}"),
    Alien("GET", "/insights/reports/{report}/pdf"),
    Listed("/insights/nps"),
    Listed("/insights/nps-by/{scope}"),
    # --- monitoring ---------------------------------------------------------------------------
    Listed("/monitoring/checks", "check"),
    Listed("/monitoring/checks?client={client}", "check"),
    Reach("POST", "/monitoring/checks", tenants.check_payload("{client}", "X"), "client"),
    Reach(
        "POST",
        "/monitoring/checks",
        {**tenants.check_payload("{own:client}", "X"), "asset": "{asset}"},
        "asset",
    ),
    Reach("PATCH", "/monitoring/checks/{own:check}", {"asset": "{asset}"}, "asset"),
    Reach("PATCH", "/monitoring/checks/{own:check}", {"site": "{site}"}, "site"),
    Reach(
        "POST",
        "/monitoring/windows",
        {**tenants.window_payload("{own:client}", "X"), "asset": "{asset}"},
        "asset",
    ),
    Reach("PATCH", "/monitoring/windows/{own:window}", {"site": "{site}"}, "site"),
    Reach(
        "POST",
        "/monitoring/agent-tokens",
        {**tenants.agent_token_payload("{own:client}", "X"), "site": "{site}"},
        "site",
    ),
    Reach(
        "POST",
        "/maintenance-schedules",
        {**tenants.schedule_payload("{own:client}", "X"), "asset": "{asset}"},
        "asset",
    ),
    Reach("PATCH", "/maintenance-schedules/{own:schedule}", {"site": "{site}"}, "site"),
    Reach("PUT", "/vault/credentials/{own:credential}", {"name": "X", "asset": "{asset}"}, "asset"),
    Reach(
        "POST",
        "/vault/documents",
        {**tenants.document_payload("{own:client}", "X"), "site": "{site}"},
        "site",
    ),
    Reach("PUT", "/vault/documents/{own:document}", {"title": "X", "asset": "{asset}"}, "asset"),
    Reach(
        "POST",
        "/vault/expirations",
        {**tenants.expiration_payload("{own:client}", "X"), "asset": "{asset}"},
        "asset",
    ),
    Reach(
        "POST",
        "/contracts/{own:contract}/lines/{line}/change",
        {"effective_on": "2026-12-01", "price": "1.00"},
        "line",
    ),
    Reach("POST", "/vault/files/folders/{own:folder}/move", {"parent": "{folder}"}, "parent"),
    Alien("GET", "/monitoring/checks/{check}"),
    Alien("PATCH", "/monitoring/checks/{check}", {"name": "Taken"}),
    Alien("DELETE", "/monitoring/checks/{check}"),
    Alien("POST", "/monitoring/checks/{check}/run-now"),
    Alien("GET", "/monitoring/checks/{check}/results"),
    Listed("/monitoring/alerts", "alert"),
    Alien("GET", "/monitoring/alerts/{alert}"),
    Listed("/monitoring/windows", "window"),
    Reach("POST", "/monitoring/windows", tenants.window_payload("{client}", "X"), "client"),
    Alien("GET", "/monitoring/windows/{window}"),
    Alien("PATCH", "/monitoring/windows/{window}", {"name": "Taken"}),
    Alien("DELETE", "/monitoring/windows/{window}"),
    Listed("/monitoring/intake-tokens", "intake_token"),
    Reach("POST", "/monitoring/intake-tokens", tenants.intake_payload("{client}", "X"), "client"),
    Alien("DELETE", "/monitoring/intake-tokens/{intake_token}"),
    Alien("GET", "/monitoring/clients/{client}/alert-rule"),
    Alien("PUT", "/monitoring/clients/{client}/alert-rule", {"priority": 1}),
    Listed("/monitoring/agent-tokens", "agent_token"),
    Reach(
        "POST",
        "/monitoring/agent-tokens",
        tenants.agent_token_payload("{client}", "X"),
        "client",
    ),
    Alien("DELETE", "/monitoring/agent-tokens/{agent_token}"),
    Listed("/monitoring/agents", "agent"),
    Alien("GET", "/monitoring/agents/{agent}"),
    Alien("DELETE", "/monitoring/agents/{agent}"),
    Listed("/monitoring/scripts"),
    Alien("GET", "/monitoring/clients/{client}/asset-tags"),
    Alien("PUT", "/monitoring/assets/{asset}/tags", {"tags": ["taken"]}),
    Listed("/monitoring/incidents"),
    Alien("GET", "/monitoring/incidents/{incident}"),
    # --- playbooks ----------------------------------------------------------------------------
    Listed("/playbook-runs", "run"),
    Reach("POST", "/playbook-runs", {"playbook": "{own:playbook}", "client": "{client}"}, "client"),
    Alien("GET", "/playbook-runs/{run}"),
    Alien("POST", "/playbook-runs/{run}/steps/1/complete", {}),
    Alien("POST", "/playbook-runs/{run}/steps/1/reopen", {"reason": "Again"}),
    Alien("GET", "/playbook-runs/{run}/feedback"),
    Alien("POST", "/playbook-runs/{run}/feedback", {"score": 5}),
    Listed("/maintenance-schedules", "schedule"),
    Reach(
        "POST",
        "/maintenance-schedules",
        tenants.schedule_payload("{client}", "X"),
        "client",
    ),
    Alien("GET", "/maintenance-schedules/{schedule}"),
    Alien("PATCH", "/maintenance-schedules/{schedule}", {"name": "Taken"}),
    # --- vault --------------------------------------------------------------------------------
    Listed("/vault/credentials", "credential"),
    Listed("/vault/credentials?client={client}", "credential"),
    Reach("POST", "/vault/credentials", tenants.credential_payload("{client}", "X"), "client"),
    Reach(
        "POST",
        "/vault/credentials",
        {**tenants.credential_payload("{own:client}", "X"), "asset": "{asset}"},
        "asset",
    ),
    Alien("GET", "/vault/credentials/{credential}"),
    Alien("PUT", "/vault/credentials/{credential}", {"name": "Taken"}),
    Alien("POST", "/vault/credentials/{credential}/reveal", {"reason": "Curious"}),
    Listed("/vault/documents", "document"),
    Reach("POST", "/vault/documents", tenants.document_payload("{client}", "X"), "client"),
    Alien("GET", "/vault/documents/{document}"),
    Alien("PUT", "/vault/documents/{document}", {"title": "Taken"}),
    Alien("GET", "/vault/documents/{document}/versions"),
    Listed("/vault/expirations", "expiration"),
    Reach("POST", "/vault/expirations", tenants.expiration_payload("{client}", "X"), "client"),
    Alien("GET", "/vault/expirations/{expiration}"),
    Alien(
        "PUT",
        "/vault/expirations/{expiration}",
        {"kind": "domain", "name": "taken.example", "expires_on": "2031-01-01"},
    ),
    Alien("POST", "/vault/expirations/{expiration}/acknowledge"),
    Alien("POST", "/vault/expirations/{expiration}/snooze", {"until": "2031-01-01"}),
    Alien("POST", "/vault/expirations/{expiration}/rdap"),
    Listed("/vault/files?client={client}", "file"),
    Listed("/vault/files?folder={folder}", "file"),
    Reach("POST", "/vault/files", {"folder": "{folder}", "file": "file"}, "folder", multipart=True),
    Alien("GET", "/vault/files/{file}"),
    Alien("GET", "/vault/files/{file}/download"),
    Alien("GET", "/vault/files/{file}/versions"),
    Alien("POST", "/vault/files/{file}/versions", {"file": "file"}, multipart=True),
    Alien("POST", "/vault/files/{file}/restore", {"version": 1}),
    Alien("POST", "/vault/files/{file}/copy", {"folder": "{folder}", "name": "taken.txt"}),
    Alien("POST", "/vault/files/{file}/move", {"name": "taken.txt"}),
    Alien("POST", "/vault/files/{file}/untrash"),
    Alien("PUT", "/vault/files/{file}/expiry", {"expires_on": "2031-01-01"}),
    Alien("GET", "/vault/files/{file}/notes"),
    Alien("POST", "/vault/files/{file}/notes", {"text": "Taken"}),
    Listed("/vault/files/folders?client={client}", "folder"),
    Reach("POST", "/vault/files/folders", {"parent": "{folder}", "name": "Taken"}, "parent"),
    Alien("PUT", "/vault/files/folders/{folder}/limit", {"limit_bytes": 1}),
    Alien("POST", "/vault/files/folders/{folder}/move", {"name": "Taken"}),
    Alien("POST", "/vault/files/folders/{folder}/trash"),
    Alien("POST", "/vault/files/folders/{folder}/untrash"),
    Alien("DELETE", "/vault/files/folders/{folder}"),
    Alien("GET", "/vault/files/folders/{folder}/notes"),
    Alien("POST", "/vault/files/folders/{folder}/notes", {"text": "Taken"}),
    Alien(
        "PUT",
        "/vault/files/folders/{folder}/permissions",
        {"audience": "client_user", "access": "read"},
    ),
    Alien("GET", "/vault/files/quota/{client}"),
    Reach(
        "POST", "/vault/files/{own:file}/copy", {"folder": "{folder}", "name": "x.txt"}, "folder"
    ),
    Reach("POST", "/vault/files/{own:file}/move", {"folder": "{folder}"}, "folder"),
    # --- billing ------------------------------------------------------------------------------
    Listed("/contracts", "contract"),
    Listed("/contracts?client={client}", "contract"),
    Reach("POST", "/contracts", tenants.contract_payload("{client}", "X"), "client"),
    Alien("GET", "/contracts/{contract}"),
    Alien("PATCH", "/contracts/{contract}", {"name": "Taken"}),
    Alien(
        "POST",
        "/contracts/{contract}/lines",
        {"description": "Taken", "unit": "hour", "price": "1.00"},
    ),
    Alien("GET", "/contracts/{block}/block"),
    Alien("POST", "/contracts/{block}/top-ups", {"minutes": 60, "price": "1.00"}),
    Alien(
        "POST",
        "/contracts/{contract}/lines/{line}/change",
        {"effective_on": "2026-12-01", "price": "1.00"},
    ),
    Alien("POST", "/contracts/{contract}/renew", {}),
    Alien("GET", "/contracts/{contract}/project"),
    Alien(
        "PUT",
        "/contracts/{contract}/milestones",
        {"milestones": [{"name": "Taken", "amount": "1.00", "due_on": "2026-12-01"}]},
    ),
    Alien("POST", "/contracts/{project}/milestones/{milestone}/done"),
    Reach("POST", "/contracts/{own:project}/milestones/{milestone}/done", None, "milestone"),
    Alien("DELETE", "/contracts/{project}/milestones/{milestone}/done"),
    Reach("DELETE", "/contracts/{own:project}/milestones/{milestone}/done", None, "milestone"),
    Listed("/time-entries", "entry"),
    Reach(
        "POST",
        "/time-entries",
        {"contract_line": "{line}", "worked_on": "2026-11-04", "worked_minutes": 30},
        "contract_line",
    ),
    Alien("POST", "/time-entries/{entry}/correct", {"note": "Taken"}),
    Listed("/timesheets", "sheet"),
    Alien("GET", "/timesheets/{sheet}"),
    Alien("POST", "/timesheets/{sheet}/submit"),
    Alien("POST", "/timesheets/{sheet}/approve"),
    Alien("POST", "/timesheets/{sheet}/reject", {"reason": "Wrong week"}),
    Listed("/billing/drift"),
    Listed("/invoices", "invoice"),
    Alien("GET", "/invoices/{invoice}"),
    Alien("POST", "/invoices/{invoice}/approve"),
    Alien("POST", "/invoices/{invoice}/paid"),
    Alien("GET", "/invoices/{invoice}/pdf"),
    Alien("GET", "/invoices/{invoice}/facturx"),
    Alien("GET", "/invoices/{invoice}/ubl"),
    Listed("/billing/items", "item"),
    Reach("POST", "/billing/items", tenants.item_payload("{client}", "X"), "client"),
    Reach(
        "POST",
        "/billing/items",
        {**tenants.item_payload("{own:client}", "X"), "contract": "{contract}"},
        "contract",
    ),
    Reach(
        "POST",
        "/billing/items",
        {**tenants.item_payload("{own:client}", "X"), "ticket": "{ticket}"},
        "ticket",
    ),
    Alien("GET", "/billing/items/{item}"),
    Alien("PATCH", "/billing/items/{item}", {"description": "Taken"}),
    Alien("DELETE", "/billing/items/{item}"),
    Alien("GET", "/billing/client-details/{client}"),
    Alien("PATCH", "/billing/client-details/{client}", {"vat_id": "FR40303265045"}),
    Alien("GET", "/statements/{partner}?month=2026-11"),
    Listed("/billing/capital"),
    Listed("/billing/successions"),
    # --- sla, mail, sales ---------------------------------------------------------------------
    Listed("/sla/policies"),
    Listed("/on-call"),
    Listed("/rotas"),
    Listed("/mail/quarantine", "message"),
    Alien("POST", "/mail/messages/{message}/reprocess"),
    Listed("/mail/outbox"),
    Listed("/sales/leads"),
    Listed("/sales/opportunities"),
    Listed("/sales/proposals"),
]

_AGENT = "tests/monitoring/test_agent_api.py"
_PRACTICE_WIDE = "an object of the practice, not of a client: no client can be the other one"
EXEMPT = [
    # The monitoring agent's own operations take its enrolment token or its secret, never a
    # person's token: the secret names the agent, so there is no id of another to try.
    Exempt("POST", "/monitoring/agent/enrol", "the agent's one-time enrolment token", _AGENT),
    Exempt("POST", "/monitoring/agent/heartbeat", "the agent's own secret", _AGENT),
    Exempt("POST", "/monitoring/agent/results", "the agent's own secret", _AGENT),
    Exempt("POST", "/monitoring/agent/inventory", "the agent's own secret", _AGENT),
    # Public URLs whose secret is in the URL or the payload: a wrong secret is the only
    # way to try another's, and their tests try it.
    *(
        Exempt(
            method,
            f"/monitoring/ping/{{token}}/{end}",
            "public ping URL",
            "tests/monitoring/test_heartbeat_cron.py",
        )
        for method in ("GET", "POST")
        for end in ("", "start", "fail")
    ),
    Exempt(
        "POST", "/monitoring/alertmanager", "bearer intake token", "tests/monitoring/test_intake.py"
    ),
    Exempt("POST", "/mail/inbound", "the mail server's intake secret", "tests/mail/"),
    # An absence is a partner's, not a client's, and the whole network sees every absence by
    # rule (network/access.py): another partner's absence is no secret to a partner, who is
    # refused its take-back with a 403 while a missing one is a 404. The take-back's own rule
    # (the partner back, or a practice admin) is tried in its room; clients see no absence.
    Exempt(
        "POST",
        "/absences/{absence_id}/take-back",
        "a partner's absence, seen by the whole network; not an object of a client",
        "tests/tickets/test_continuity.py",
    ),
    Exempt(
        "POST",
        "/dispatch/next",
        "acts on the caller's own queue; picks only tickets the caller may see",
        "tests/tickets/test_next_ticket.py",
    ),
    Exempt("POST", "/insights/ratings", "signed rating link", "tests/insights/test_csat.py"),
    Exempt("POST", "/insights/nps", "signed survey link", "tests/insights/test_nps.py"),
    Exempt(
        "POST",
        "/sales/proposal-answers/accept",
        "signed proposal link",
        "tests/sales/test_links.py",
    ),
    Exempt(
        "POST",
        "/sales/proposal-answers/decline",
        "signed proposal link",
        "tests/sales/test_links.py",
    ),
    # Objects of the practice itself (calendars, policies, playbook templates, scripts,
    # practice settings and switches, exports, capital, the sales pipeline before a client
    # exists): they belong to no client; who may change them is the rooms' own tests.
    *(
        Exempt(method, url, _PRACTICE_WIDE, where)
        for method, url, where in (
            ("GET", "/sla/calendars", "tests/sla/"),
            ("POST", "/sla/calendars", "tests/sla/"),
            ("GET", "/sla/policies/{policy_id}", "tests/sla/"),
            ("GET", "/playbooks", "tests/playbooks/test_api.py"),
            ("POST", "/playbooks", "tests/playbooks/test_api.py"),
            ("GET", "/playbooks/{playbook_id}", "tests/playbooks/test_api.py"),
            ("POST", "/playbook-copies", "tests/playbooks/test_api.py"),
            ("POST", "/playbooks/{playbook_id}/steps", "tests/playbooks/test_api.py"),
            ("PUT", "/playbooks/{playbook_id}/steps/{position}", "tests/playbooks/test_api.py"),
            ("DELETE", "/playbooks/{playbook_id}/steps/{position}", "tests/playbooks/test_api.py"),
            ("POST", "/playbooks/{playbook_id}/publish", "tests/playbooks/test_api.py"),
            ("GET", "/playbooks/{playbook_id}/metrics", "tests/playbooks/test_metrics.py"),
            ("POST", "/monitoring/scripts", "tests/monitoring/test_scripts.py"),
            ("GET", "/monitoring/scripts/{script_id}", "tests/monitoring/test_scripts.py"),
            ("PATCH", "/monitoring/scripts/{script_id}", "tests/monitoring/test_scripts.py"),
            ("GET", "/monitoring/scripts/{script_id}/runs", "tests/monitoring/test_scripts.py"),
            ("GET", "/dispatch-switches/{practice_id}", "tests/tickets/test_dispatching.py"),
            ("PATCH", "/dispatch-switches/{practice_id}", "tests/tickets/test_dispatching.py"),
            ("GET", "/insights/nps-settings", "tests/insights/test_nps.py"),
            ("PATCH", "/insights/nps-settings", "tests/insights/test_nps.py"),
            ("GET", "/insights/thresholds", "tests/insights/test_thresholds.py"),
            ("PATCH", "/insights/thresholds", "tests/insights/test_thresholds.py"),
            ("GET", "/billing/runs/preview", "tests/billing/test_runs_api.py"),
            ("GET", "/billing/settings/{practice_id}", "tests/billing/test_after_hours.py"),
            ("PATCH", "/billing/settings/{practice_id}", "tests/billing/test_after_hours.py"),
            ("GET", "/billing/sharing/{practice_id}", "tests/billing/test_sharing_api.py"),
            ("PATCH", "/billing/sharing/{practice_id}", "tests/billing/test_sharing_api.py"),
            ("GET", "/billing/tool-costs", "tests/billing/test_sharing_api.py"),
            ("POST", "/billing/tool-costs", "tests/billing/test_sharing_api.py"),
            ("GET", "/billing/tool-costs/{tool_id}", "tests/billing/test_sharing_api.py"),
            ("PATCH", "/billing/tool-costs/{tool_id}", "tests/billing/test_sharing_api.py"),
            ("DELETE", "/billing/tool-costs/{tool_id}", "tests/billing/test_sharing_api.py"),
            ("GET", "/billing/clawbacks", "tests/billing/test_sharing_api.py"),
            ("POST", "/billing/clawbacks", "tests/billing/test_sharing_api.py"),
            ("POST", "/billing/runs", "tests/billing/test_runs_api.py"),
            ("POST", "/billing/runs/approve", "tests/billing/test_runs_api.py"),
            ("GET", "/billing/exports/pending", "tests/billing/test_exports.py"),
            ("GET", "/billing/exports", "tests/billing/test_exports.py"),
            ("POST", "/billing/exports", "tests/billing/test_exports.py"),
            ("GET", "/billing/exports/{batch_id}/file", "tests/billing/test_exports.py"),
            ("POST", "/billing/exports/{batch_id}/undo", "tests/billing/test_exports.py"),
            ("GET", "/billing/export-mappings/{practice_id}", "tests/billing/test_exports.py"),
            ("PATCH", "/billing/export-mappings/{practice_id}", "tests/billing/test_exports.py"),
            (
                "GET",
                "/billing/export-mappings/{practice_id}/debtors",
                "tests/billing/test_exports.py",
            ),
            (
                "PUT",
                "/billing/export-mappings/{practice_id}/debtors/{client_id}",
                "tests/billing/test_exports.py",
            ),
            ("POST", "/billing/capital", "tests/billing/test_capital_api.py"),
            ("GET", "/billing/capital/{capital_id}", "tests/billing/test_capital_api.py"),
            ("POST", "/billing/capital/{capital_id}/buy-in", "tests/billing/test_capital_api.py"),
            (
                "POST",
                "/billing/capital/{capital_id}/return",
                "tests/billing/test_buy_out_instalments.py",
            ),
            ("GET", "/billing/capital/{capital_id}/buy-out", "tests/billing/test_capital_api.py"),
            ("POST", "/billing/capital/{capital_id}/buy-out", "tests/billing/test_capital_api.py"),
            (
                "POST",
                "/billing/capital/{capital_id}/instalments",
                "tests/billing/test_buy_out_instalments.py",
            ),
            (
                "POST",
                "/billing/capital/{capital_id}/instalments/{number}/paid",
                "tests/billing/test_buy_out_instalments.py",
            ),
            (
                "POST",
                "/billing/capital/{capital_id}/instalments/standing-order",
                "tests/billing/test_standing_order_instalments.py",
            ),
            ("GET", "/billing/pool-allocations/{practice_id}/{month}", "tests/billing/test_api.py"),
            ("POST", "/billing/pool-allocations", "tests/billing/test_api.py"),
            ("POST", "/billing/successions/preview", "tests/billing/test_succession_api.py"),
            ("POST", "/billing/successions", "tests/billing/test_succession_api.py"),
            ("GET", "/billing/successions/{succession_id}", "tests/billing/test_succession_api.py"),
            (
                "GET",
                "/billing/successions/{succession_id}/preview",
                "tests/billing/test_succession_api.py",
            ),
            (
                "POST",
                "/billing/successions/{succession_id}/apply",
                "tests/billing/test_succession_api.py",
            ),
            (
                "POST",
                "/billing/successions/{succession_id}/cancel",
                "tests/billing/test_succession_api.py",
            ),
            ("POST", "/sales/leads", "tests/sales/test_api.py"),
            ("GET", "/sales/leads/{lead_id}", "tests/sales/test_api.py"),
            ("PATCH", "/sales/leads/{lead_id}", "tests/sales/test_api.py"),
            ("POST", "/sales/leads/{lead_id}/qualify", "tests/sales/test_api.py"),
            ("POST", "/sales/leads/{lead_id}/disqualify", "tests/sales/test_api.py"),
            ("POST", "/sales/opportunities", "tests/sales/test_api.py"),
            ("GET", "/sales/opportunities/{opportunity_id}", "tests/sales/test_api.py"),
            ("PATCH", "/sales/opportunities/{opportunity_id}", "tests/sales/test_api.py"),
            ("POST", "/sales/opportunities/{opportunity_id}/stage", "tests/sales/test_api.py"),
            ("POST", "/sales/proposals", "tests/sales/test_api.py"),
            ("GET", "/sales/proposals/{proposal_id}", "tests/sales/test_api.py"),
            ("POST", "/sales/proposals/{proposal_id}/send", "tests/sales/test_api.py"),
        )
    ),
]
# The rooms whose every operation ``test_isolation.py`` tries for every role, with its rules.
EARLIER = {"accounts", "network", "clients"}


def _shape(url: str) -> str:
    """``/tickets/{ticket}/links/{link}`` and ``/tickets/{ticket_id}/links/{link_id}`` alike;
    a step number of the sweep (``/steps/1``) is the document's ``{position}``."""
    url = url.split("?")[0].removeprefix(API)
    url = re.sub(r"/steps/\d+", "/steps/{}", url)
    return re.sub(r"\{[^}]*\}", "{}", url)


def _entry_key(entry) -> tuple[str, str]:
    method = "GET" if isinstance(entry, Listed) else entry.method
    return method, _shape(entry.url)


def openapi() -> dict:
    response = HttpClient().get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_is_swept_or_exempted(db):
    document = openapi()
    every = {
        (method.upper(), _shape(url))
        for url, operations in document["paths"].items()
        for method, operation in operations.items()
        if not EARLIER & set(operation.get("tags", []))
    }
    named = {_entry_key(entry) for entry in [*SWEEP, *EXEMPT]}

    missing = sorted(every - named)
    assert not missing, (
        "These operations are neither swept nor exempted: add each to SWEEP of "
        "tests/api/test_isolation_rooms.py (an Alien for an object of a client, a Listed for a "
        "list, a Reach for a payload that names an object), or to EXEMPT with why and where "
        f"its own rules are tested: {missing}"
    )
    assert not named - every, f"Entries for operations the API no longer has: {named - every}"


def test_no_operation_is_both_swept_and_exempted():
    swept = {_entry_key(entry) for entry in SWEEP}
    assert not swept & {_entry_key(entry) for entry in EXEMPT}


# --- the sweep ---------------------------------------------------------------------------------


def _fill(value: Any, theirs: dict[str, int], ours: dict[str, int]) -> Any:
    """Replace ``"{kind}"`` by the other client's object and ``"{own:kind}"`` by the caller's."""
    if isinstance(value, str) and re.fullmatch(r"\{(own:)?\w+\}", value):
        own, kind = value.startswith("{own:"), value.strip("{}").removeprefix("own:")
        return (ours if own else theirs)[kind]
    if isinstance(value, str):
        return re.sub(
            r"\{(own:)?(\w+)\}",
            lambda m: str((ours if m.group(1) else theirs)[m.group(2)]),
            value,
        )
    if isinstance(value, list):
        return [_fill(item, theirs, ours) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, theirs, ours) for key, item in value.items()}
    return value


def _missing(ids: dict[str, int]) -> dict[str, int]:
    return dict.fromkeys(ids, MISSING)


def _call(client: HttpClient, method: str, url: str, payload: Any, multipart: bool = False):
    call = getattr(client, method.lower())
    if multipart:
        data = {
            key: ContentFile(b"taken", name="taken.txt") if value == "file" else value
            for key, value in payload.items()
        }
        return call(API + url, data=data)
    if payload is None:
        return call(API + url)
    return call(API + url, data=json.dumps(payload), content_type="application/json")


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _leaks(response, tenant: str) -> bool:
    return MARK[tenant] in _body(response).decode(errors="replace").lower()


@pytest.fixture
def admin(cast, api_as) -> HttpClient:
    return api_as(cast.admin)


@pytest.fixture
def made(cast, admin) -> dict[str, dict[str, int]]:
    return tenants.build(cast, admin)


def _check_alien(client, entry: Alien, theirs, ours, tenant) -> list[str]:
    url = _fill(entry.url, theirs, ours)
    payload = _fill(entry.payload, theirs, ours)
    audit = AuditRecord.objects.count()
    response = _call(client, entry.method, url, payload, entry.multipart)
    missing = _call(
        client,
        entry.method,
        _fill(entry.url, _missing(theirs), ours),
        _fill(entry.payload, theirs, ours),
        entry.multipart,
    )
    where = f"{entry.method} {entry.url} of {tenant} answered {response.status_code}"
    problems = []
    if response.status_code not in (403, 404):
        problems.append(f"{where}: {response.content[:200]!r}")
    elif response.status_code != missing.status_code:
        problems.append(f"{where}, a missing one {missing.status_code}: the id is an oracle")
    if _leaks(response, tenant):
        problems.append(f"{where} with {tenant}'s data: {response.content[:200]!r}")
    if AuditRecord.objects.count() != audit:
        problems.append(f"{where} and wrote an audit record")
    return problems


def _listed_ids(response) -> set[int]:
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item["id"] for item in items}


def _check_listed(client, entry: Listed, theirs, ours, tenant) -> list[str]:
    response = client.get(API + _fill(entry.url, theirs, ours))
    where = f"GET {entry.url} (the other client {tenant}) answered {response.status_code}"
    problems = []
    if response.status_code >= 500:
        problems.append(where)
    if entry.kind and response.status_code == 200 and theirs[entry.kind] in _listed_ids(response):
        problems.append(f"{where} listing {tenant}'s {entry.kind}")
    if _leaks(response, tenant):
        problems.append(f"{where} with {tenant}'s data: {response.content[:300]!r}")
    return problems


def _check_reach(client, entry: Reach, theirs, ours, tenant) -> list[str]:
    audit = AuditRecord.objects.count()
    url, payload = _fill(entry.url, theirs, ours), _fill(entry.payload, theirs, ours)
    response = _call(client, entry.method, url, payload, entry.multipart)
    where = f"{entry.method} {entry.url} naming {tenant}'s {entry.field}"
    where += f" answered {response.status_code}"
    problems = []
    if entry.bulk and response.status_code == 200:
        body = response.json()
        if body["updated"] or [item["id"] for item in body["refused"]] != payload[entry.field]:
            problems.append(f"{where}: {body}")
    elif response.status_code == 400:
        # The field that reaches across, or one naming the caller's own side (a role that may
        # not use its own client there is refused on that first).
        own = {
            key for key, value in (entry.payload or {}).items() if str(value).startswith("{own:")
        }
        named = {error["field"] for error in assert_refused(response)}
        if not named & {entry.field, *own}:
            problems.append(f"{where} without naming {entry.field}: {response.content[:300]!r}")
    elif response.status_code not in (403, 404):
        problems.append(f"{where}: {response.content[:300]!r}")
    if _leaks(response, tenant):
        problems.append(f"{where} with {tenant}'s data: {response.content[:300]!r}")
    if AuditRecord.objects.count() != audit:
        problems.append(f"{where} and wrote an audit record")
    return problems


CHECKS = {Alien: _check_alien, Listed: _check_listed, Reach: _check_reach}


@pytest.mark.parametrize("role", FOREIGN)
def test_no_role_reaches_the_objects_of_a_client_it_does_not_see(cast, api_as, made, role):
    client = api_as(getattr(cast, role))
    problems = []
    before = tenants.rows()

    for tenant in FOREIGN[role]:
        theirs, ours = made[tenant], made[OWN[tenant]]
        for entry in SWEEP:
            problems += CHECKS[type(entry)](client, entry, theirs, ours, tenant)

    assert not problems, "\n".join(problems)
    assert tenants.changed(before, tenants.rows()) == []


def _undone(client, method, url, payload, multipart=False):
    """One call whose writes are rolled back, so the next call finds the objects as made."""
    from django.db import transaction

    with transaction.atomic():
        response = _call(client, method, url, payload, multipart)
        transaction.set_rollback(True)
    return response


def test_the_sweep_reaches_real_objects_for_someone_who_sees_them(admin, made):
    """The practice admin sees both clients: each object the sweep names exists (no 404) and
    each listed kind is in its list, so the 404s of the other roles are refusals."""
    theirs, ours = made["globex"], made["acme"]
    problems = []
    for entry in SWEEP:
        if isinstance(entry, Alien):
            url, payload = _fill(entry.url, theirs, ours), _fill(entry.payload, theirs, ours)
            response = _undone(admin, entry.method, url, payload, entry.multipart)
            if response.status_code == 404 or response.status_code >= 500:
                problems.append(f"{entry.method} {entry.url}: {response.status_code}")
        elif isinstance(entry, Listed) and entry.kind:
            response = admin.get(API + _fill(entry.url, theirs, ours))
            if theirs[entry.kind] not in _listed_ids(response):
                problems.append(f"GET {entry.url} does not list {entry.kind}")

    assert not problems, "\n".join(problems)
