"""The built-in playbooks a practice copies and then edits as its own.

Pure data: each step says what to do, who owns it (a role of the network), how long it should
take and what evidence closes it.  Practices are the practice's own: a copy names them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltinStep:
    title: str
    instructions: str
    expected_minutes: int
    evidence: str = "checkbox"
    blocking: bool = False
    owner_role: str = "partner"
    # (earlier step's position, operator, value): the step applies only when it holds.
    condition: tuple[int, str, str] | None = None


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    steps: tuple[BuiltinStep, ...]
    timeline_report: bool = False


S = BuiltinStep

BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "client_onboarding",
        "Client onboarding",
        "From a signed contract to a client we can support.",
        (
            S(
                "Discovery call",
                "Meet the client; note sites, users, systems and pains.",
                90,
                "text",
                True,
            ),
            S(
                "Inventory of assets",
                "List every computer, server and network device.",
                240,
                "file",
            ),
            S(
                "Needs remote access?",
                "Ask whether the client's staff work from outside the office.",
                10,
                "yes_no",
            ),
            S(
                "Set up the VPN",
                "Configure the VPN and give remote staff their access.",
                120,
                condition=(3, "equals", "yes"),
            ),
            S("Credentials into the vault", "Store admin credentials in the client's vault.", 60),
            S("Monitoring agents deployed", "Install agents on servers; add checks.", 120, "value"),
            S(
                "Backups verified",
                "Restore one file from each backup to prove it works.",
                90,
                "text",
                True,
            ),
            S("Documentation written", "Write the network map and the runbook.", 180, "file"),
            S("Welcome call", "Show the client how to ask for help.", 30, owner_role="desk"),
        ),
    ),
    Builtin(
        "client_offboarding",
        "Client offboarding",
        "Hand back a client's systems cleanly when the contract ends.",
        (
            S(
                "Confirm the end date",
                "Agree the last day of service in writing.",
                30,
                "text",
                True,
            ),
            S("Hand over credentials", "Give every stored credential to the client.", 60, "file"),
            S("Remove monitoring agents", "Uninstall agents and delete checks.", 60),
            S(
                "Revoke our access",
                "Remove our accounts and keys at the client.",
                60,
                blocking=True,
            ),
            S("Final invoice", "Bill the last period.", 30, owner_role="practice_admin"),
        ),
    ),
    Builtin(
        "user_onboarding",
        "User onboarding at a client",
        "A new person starts at the client.",
        (
            S("Account created", "Create the mail and directory account.", 30, "text", True),
            S("Licences assigned", "Assign the office and security licences.", 15),
            S("Device prepared", "Enrol and hand over the laptop.", 90, "text"),
            S("Welcome and MFA", "Set up two-factor sign-in with the person.", 30),
        ),
    ),
    Builtin(
        "user_offboarding",
        "User offboarding at a client",
        "A person leaves the client.",
        (
            S("Disable sign-in", "Block the account and end its sessions.", 15, blocking=True),
            S("Keep the mailbox", "Convert or forward the mailbox as the client asks.", 30, "text"),
            S("Collect the device", "Recover and wipe the laptop.", 60, "text"),
            S("Release licences", "Remove licences from the account.", 15),
        ),
    ),
    Builtin(
        "security_incident",
        "Security incident response",
        "Triage, contain, eradicate, recover and learn; the timeline is the report.",
        (
            S("Triage", "Confirm the incident, its scope and severity.", 60, "text", True),
            S("Containment", "Isolate affected systems and accounts.", 120, "text", True),
            S("Eradication", "Remove the cause: malware, access, weakness.", 240, "text", True),
            S("Recovery", "Restore service and watch for recurrence.", 240, "text", True),
            S("Lessons learned", "Write what happened and what changes.", 120, "file"),
        ),
        timeline_report=True,
    ),
    Builtin(
        "major_outage",
        "Major outage",
        "A service the client depends on is down.",
        (
            S("Declare and inform", "Tell the client's contacts what is down.", 15, "text", True),
            S("Find the cause", "Diagnose and note what was found.", 120, "text"),
            S("Restore service", "Bring the service back.", 120, "text", True),
            S("Post-outage review", "Write the review and follow-up actions.", 60, "file"),
        ),
        timeline_report=True,
    ),
)

BY_KEY = {builtin.key: builtin for builtin in BUILTINS}
