"""The cast written back from the process's copy is the cast the services build."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from conftest import _build_cast
from support import snapshot
from thirdway.accounts.models import User
from thirdway.audit.models import AuditRecord
from thirdway.clients.models import Client, Contact
from thirdway.network.models import Partner

pytestmark = pytest.mark.django_db


class _Undone(Exception):
    pass


def _facts() -> dict[str, object]:
    """What a test sees of the cast, without its keys and the times its rows were made."""
    return {
        "users": sorted(User.objects.values_list("username", "email", "role", "is_active")),
        "partners": sorted(Partner.objects.values_list("user__username", "name", "kind", "town")),
        "clients": sorted(Client.objects.values_list("name", "lead_partner__name", "country")),
        "contacts": sorted(Contact.objects.values_list("client__name", "email", "role")),
        "audit": sorted(AuditRecord.objects.values_list("action", "object_type", "actor_label")),
        "team": sorted(Client.team.through.objects.values_list("client__name", "partner__name")),
    }


def _in_undone_transaction(make):
    """``make()``'s facts and result, read inside a transaction that is then rolled back."""
    seen = {}
    try:
        with transaction.atomic():
            seen["cast"] = make()
            seen["facts"] = _facts()
            raise _Undone
    except _Undone:
        pass
    return seen["cast"], seen["facts"]


def test_the_copy_holds_the_same_rows_and_objects_as_a_new_build():
    _in_undone_transaction(lambda: snapshot.cast(_build_cast))  # takes the copy if none yet
    assert snapshot._snapshot is not None
    copied, copied_facts = _in_undone_transaction(
        lambda: snapshot.cast(lambda: pytest.fail("the copy was not used"))
    )
    built, built_facts = _in_undone_transaction(_build_cast)
    assert copied_facts == built_facts
    assert len(copied_facts["audit"]) > 10
    assert copied.partner.username == built.partner.username == "paula"
    assert copied.partner_record.user_id == copied.partner.pk
    assert copied.acme.lead_partner_id == copied.partner_record.pk


def test_each_use_of_the_copy_gets_objects_of_its_own():
    _in_undone_transaction(lambda: snapshot.cast(_build_cast))
    first, _ = _in_undone_transaction(lambda: snapshot.cast(lambda: pytest.fail("no copy")))
    first.acme.name = "Changed in memory"
    again, facts = _in_undone_transaction(lambda: snapshot.cast(lambda: pytest.fail("no copy")))
    assert again.acme is not first.acme
    assert again.acme.name == "Acme Bakery"
    assert ("Acme Bakery", "Paula Partner", "FR") in facts["clients"]


def test_a_pinned_clock_gets_a_new_build(monkeypatch):
    _in_undone_transaction(lambda: snapshot.cast(_build_cast))
    moment = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    cast = snapshot.cast(_build_cast)
    assert AuditRecord.objects.filter(at=moment).count() > 10
    assert not AuditRecord.objects.exclude(at=moment).exists()
    assert cast.acme.name == "Acme Bakery"


def test_a_database_holding_more_than_the_copy_expects_gets_a_new_build():
    _in_undone_transaction(lambda: snapshot.cast(_build_cast))
    User.objects.create_user(username="zed", email="zed@elsewhere.example")
    builds = []

    def build():
        builds.append(1)
        return _build_cast()

    cast = snapshot.cast(build)
    assert builds == [1]
    assert cast.admin.username == "admin"
    assert User.objects.filter(username__in=["zed", "admin", "paula"]).count() == 3
