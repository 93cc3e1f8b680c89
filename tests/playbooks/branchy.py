"""Helpers of the condition and sub-playbook tests: templates made through the services."""

from __future__ import annotations

from thirdway.audit.models import Source
from thirdway.playbooks import services
from thirdway.playbooks.models import Playbook, RunStep

CLI = Source.CLI
REMOTE = [
    {"title": "Needs remote access?", "evidence": "yes_no"},
    {
        "title": "Set up the VPN",
        "condition_step": 1,
        "condition_operator": "equals",
        "condition_value": "yes",
    },
    {"title": "Hand over the laptop"},
]


def book(cast, steps, name: str = "Remote setup", practice=None) -> Playbook:
    """A published template of Security (or ``practice``) with ``steps``."""
    made = services.create_playbook(
        cast.admin, practice_id=(practice or cast.security).pk, name=name, source=CLI
    )
    for data in steps:
        services.add_step(cast.admin, made, data, source=CLI)
    services.publish(cast.admin, made, source=CLI)
    return made


def step(run, position: int) -> RunStep:
    return run.steps.select_related("step", "ticket", "run").get(position=position)


def complete(actor, run, position: int, evidence=None) -> RunStep:
    return services.complete_step(actor, step(run, position), evidence=evidence, source=CLI)
