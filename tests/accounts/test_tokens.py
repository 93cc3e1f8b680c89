"""Personal API tokens: stored as a digest, noted when used, refused once revoked or inactive."""

import datetime as dt
import hashlib

from django.test import Client as HttpClient
from django.utils import timezone

from support.api import API
from thirdway.accounts import services as accounts
from thirdway.accounts.models import ApiToken, User
from thirdway.audit.models import AuditRecord, Source


def bearer(secret: str) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {secret}"})


def test_a_token_is_stored_as_the_sha256_digest_of_its_secret(cast):
    token, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith("tw_") and len(secret) > 40
    assert stored["prefix"] == secret[:10]
    assert not any(secret in str(value) for value in stored.values())
    trail = AuditRecord.objects.for_object(token).values()
    assert trail and not any(secret in str(record) for record in trail)


def test_the_digest_alone_does_not_authenticate(cast):
    token, _ = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)

    assert bearer(token.digest).get(f"{API}/me").status_code == 401
    assert bearer(f"tw_{token.digest}").get(f"{API}/me").status_code == 401


def test_a_token_authenticates_its_user_and_notes_when_it_was_used(cast):
    token, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)
    assert token.last_used_at is None
    before = timezone.now()

    response = bearer(secret).get(f"{API}/me")

    assert response.status_code == 200
    assert response.json()["username"] == "paula"
    token.refresh_from_db()
    assert before <= token.last_used_at <= timezone.now()


def test_last_used_at_is_written_at_most_once_a_minute(cast):
    token, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)
    client = bearer(secret)
    client.get(f"{API}/me")
    first = ApiToken.objects.get(pk=token.pk).last_used_at

    client.get(f"{API}/practices")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    client.get(f"{API}/practices")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > long_ago + dt.timedelta(minutes=4)


def test_a_revoked_token_is_refused(cast):
    token, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)
    client = bearer(secret)
    assert client.get(f"{API}/me").status_code == 200

    accounts.revoke_token(cast.partner, token, source=Source.CLI)

    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/clients").status_code == 401


def test_revoking_one_token_leaves_the_others_working(cast):
    old, old_secret = accounts.issue_token(cast.partner, "old", source=Source.CLI)
    _, new_secret = accounts.issue_token(cast.partner, "new", source=Source.CLI)

    accounts.revoke_token(cast.partner, old, source=Source.CLI)

    assert bearer(old_secret).get(f"{API}/me").status_code == 401
    assert bearer(new_secret).get(f"{API}/me").status_code == 200


def test_the_token_of_an_inactive_user_is_refused(cast):
    _, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)
    client = bearer(secret)
    assert client.get(f"{API}/me").status_code == 200

    # Not through deactivate_user, which also revokes: the inactive account alone must do.
    User.objects.filter(pk=cast.partner.pk).update(is_active=False)

    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/partners").status_code == 401


def test_deactivating_a_user_revokes_their_tokens(cast):
    token, secret = accounts.issue_token(cast.client_admin, "script", source=Source.CLI)

    accounts.deactivate_user(cast.admin, cast.client_admin, source=Source.CLI)

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get(f"{API}/assets").status_code == 401
    # Should the account come back, its old tokens stay dead.
    User.objects.filter(pk=cast.client_admin.pk).update(is_active=True)
    assert bearer(secret).get(f"{API}/assets").status_code == 401


def test_a_refused_token_is_not_marked_as_used(cast):
    token, secret = accounts.issue_token(cast.partner, "laptop", source=Source.CLI)
    accounts.revoke_token(cast.partner, token, source=Source.CLI)

    bearer(secret).get(f"{API}/me")

    token.refresh_from_db()
    assert token.last_used_at is None
