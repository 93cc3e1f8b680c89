"""The demo is deterministic: the same seed always gives the same practice."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from thirdway.clients.models import Client, Contact
from thirdway.demo import load_demo
from thirdway.network.models import Partner


def _snapshot() -> dict:
    return {
        "partners": list(Partner.objects.order_by("email").values_list("name", "town", "kind")),
        "clients": list(Client.objects.order_by("name").values_list("name", "time_zone")),
        "contacts": sorted(Contact.objects.values_list("email", flat=True)),
    }


@pytest.mark.django_db(transaction=True)
def test_the_same_seed_gives_the_same_practice():
    call_command("flush", interactive=False, verbosity=0)
    load_demo(size="small", seed=11, small_clients=8)
    first = _snapshot()
    call_command("flush", interactive=False, verbosity=0)
    load_demo(size="small", seed=11, small_clients=8)
    assert _snapshot() == first
    call_command("flush", interactive=False, verbosity=0)
    load_demo(size="small", seed=12, small_clients=8)
    assert _snapshot() != first
