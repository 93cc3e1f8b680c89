"""The demo practice: deterministic, complete, and its printed logins work for each role."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from thirdway.accounts.models import Role
from thirdway.audit.models import AuditRecord
from thirdway.clients.models import Client, Contact, Site
from thirdway.demo import DEMO_PASSWORD, load_demo
from thirdway.network.models import Absence, Partner, Practice
from thirdway.tickets.assignment.models import PracticeDispatch
from thirdway.tickets.models import Ticket


def _snapshot() -> dict:
    return {
        "partners": list(Partner.objects.order_by("email").values_list("name", "town", "kind")),
        "clients": list(Client.objects.order_by("name").values_list("name", "time_zone")),
        "contacts": sorted(Contact.objects.values_list("email", flat=True)),
    }


@pytest.fixture(scope="module")
def demo_logins(django_db_setup, django_db_blocker):
    """One small demo for the whole module (loading it is the slow part)."""
    with django_db_blocker.unblock():
        logins = load_demo(size="small", seed=7)
    yield logins
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def test_the_small_demo_has_the_promised_shape(db, demo_logins):
    partners = Partner.objects.all()
    assert partners.count() == 24
    assert partners.values("region").distinct().count() == 3
    assert partners.values("time_zone").distinct().count() >= 2
    assert set(partners.values_list("kind", flat=True)) == {"partner", "associate", "desk"}
    assert Practice.objects.count() == 8
    assert Practice.objects.filter(lead__isnull=True).count() == 0
    assert Client.objects.count() == 120
    assert Site.objects.count() >= 120
    assert Contact.objects.filter(role="admin").count() == 120
    assert Absence.objects.count() > 0
    assert AuditRecord.objects.filter(action="client.create").count() == 120
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "assigned", "in_progress", "resolved", "closed"} <= statuses
    assert Ticket.objects.count() > 60
    # every practice offers a partner coming free their next ticket
    offering = PracticeDispatch.objects.filter(when_free="offer")
    assert offering.count() == Practice.objects.count()


def test_the_demo_prints_one_working_login_per_role(db, demo_logins):
    logins = demo_logins
    assert [login.role for login in logins] == [
        Role.PRACTICE_ADMIN.label,
        Role.PARTNER.label,
        Role.ASSOCIATE.label,
        Role.DESK.label,
        Role.CLIENT_ADMIN.label,
        Role.CLIENT_USER.label,
    ]
    for login in logins:
        user = authenticate(username=login.username, password=login.password)
        assert user is not None, login.username
        assert user.get_role_display() == login.role
        assert login.password == DEMO_PASSWORD


def test_the_demo_logins_see_something_of_their_own(db, demo_logins):
    logins = {login.role: login for login in demo_logins}
    for role in (Role.PARTNER, Role.ASSOCIATE, Role.CLIENT_ADMIN, Role.CLIENT_USER):
        user = authenticate(username=logins[role.label].username, password=DEMO_PASSWORD)
        assert Client.objects.for_user(user).exists(), role
    for role in (Role.PARTNER, Role.DESK, Role.CLIENT_ADMIN, Role.CLIENT_USER):
        user = authenticate(username=logins[role.label].username, password=DEMO_PASSWORD)
        assert Ticket.objects.for_user(user).exists(), role


def test_loading_the_demo_twice_adds_nothing(db, demo_logins):
    before = (Partner.objects.count(), Client.objects.count(), AuditRecord.objects.count())
    logins = load_demo(size="small", seed=7)
    assert len(logins) == 6
    assert (Partner.objects.count(), Client.objects.count(), AuditRecord.objects.count()) == before
