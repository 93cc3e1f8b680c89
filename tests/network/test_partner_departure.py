"""A partner who leaves the network can no longer sign in or use their tokens."""

from __future__ import annotations

from django.contrib.auth import authenticate

from thirdway.accounts import services as accounts
from thirdway.accounts.services import user_for_token
from thirdway.audit.models import AuditRecord
from thirdway.network import services as network

PASSWORD = "correct-horse-battery-staple"


def test_deactivating_a_partner_closes_their_account_and_tokens(cast):
    _, secret = accounts.issue_token(cast.associate, "laptop", source="cli")
    assert user_for_token(secret) == cast.associate
    network.update_partner(cast.admin, cast.associate_record, {"is_active": False}, source="web")
    cast.associate.refresh_from_db()
    assert cast.associate.is_active is False
    assert authenticate(username="ada", password=PASSWORD) is None
    assert user_for_token(secret) is None
    actions = set(AuditRecord.objects.values_list("action", flat=True))
    assert {"partner.update", "user.deactivate"} <= actions


def test_other_profile_changes_leave_the_account_alone(cast):
    network.update_partner(cast.admin, cast.associate_record, {"town": "Annecy"}, source="web")
    cast.associate.refresh_from_db()
    assert cast.associate.is_active is True
