"""Every change to users, second factors and API tokens (the only writers of these models)."""

from __future__ import annotations

import datetime as dt
import secrets

import pyotp
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from thirdway.accounts import access_lost
from thirdway.accounts.models import ApiToken, Role, SignInFailure, User, token_digest
from thirdway.accounts.throttle import WINDOW, normalise_login
from thirdway.audit.services import diff, record, snapshot
from thirdway.errors import require_admin

TOKEN_PREFIX = "tw_"
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
TOTP_ISSUER = "Thirdway"


@transaction.atomic
def create_user(
    actor,
    *,
    username: str,
    email: str = "",
    role: str,
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    time_zone: str = "UTC",
    source: str,
) -> User:
    """Create a sign-in account.

    Callers decide who may do this (a partner's account is an admin's act, a contact's login
    is the act of whoever may manage that client's contacts); ``actor`` None is the system.
    """
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; allowed: {', '.join(Role.values)}"})
    check_login_name_free(username)
    user = User(
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        time_zone=time_zone,
    )
    _apply_role_flags(user)
    if password:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record(actor, "user.create", user, source=source, changes=diff({}, _user_fields(user)))
    return user


def check_login_name_free(username: str, *, exclude: User | None = None) -> None:
    taken = User.objects.filter(username__iexact=username)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError({"username": f"The username {username!r} is already taken."})


@transaction.atomic
def change_login(actor, user: User, *, username: str, email: str, source: str) -> User:
    """Give an account a new login name and address (a contact's login follows their e-mail)."""
    check_login_name_free(username, exclude=user)
    before = snapshot(user, ["username", "email"])
    user.username, user.email = username, email
    user.full_clean(exclude=["password"])
    user.save(update_fields=["username", "email"])
    record(
        actor,
        "user.change_login",
        user,
        source=source,
        changes=diff(before, snapshot(user, ["username", "email"])),
    )
    return user


def _user_fields(user: User) -> dict:
    return snapshot(user, ["username", "email", "first_name", "last_name", "role", "is_active"])


def _apply_role_flags(user: User) -> None:
    """Practice admins are the ones who use Django's admin site."""
    user.is_staff = user.is_superuser = user.role == Role.PRACTICE_ADMIN


@transaction.atomic
def set_role(actor, user: User, role: str, *, source: str) -> User:
    """Change what a user may see; used when a partner's kind or a contact's role changes."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; allowed: {', '.join(Role.values)}"})
    before = _user_fields(user)
    user.role = role
    _apply_role_flags(user)
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    record(actor, "user.role", user, source=source, changes=diff(before, _user_fields(user)))
    if before["role"] != role:  # a lower role may see less (the rooms told check what)
        access_lost.lost_access(actor, [user], source=source)
    return user


@transaction.atomic
def set_password(actor, user: User, password: str, *, source: str) -> None:
    if actor is not None and actor != user:
        require_admin(actor)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, "user.password", user, source=source, changes={"password": ["***", "***"]})


@transaction.atomic
def deactivate_user(actor, user: User, *, source: str) -> User:
    require_admin(actor)
    before = _user_fields(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    # Not .active(): that skips the tokens of inactive users, which this user now is.
    user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    record(actor, "user.deactivate", user, source=source, changes=diff(before, _user_fields(user)))
    access_lost.lost_access(actor, [user], source=source)
    return user


# --- second factor -----------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.get_username(), issuer_name=TOTP_ISSUER)


def matching_step(secret: str, code: str, at: dt.datetime | None = None) -> int | None:
    """The 30-second time step whose code this is (now, or one step either side), if any."""
    code = (code or "").replace(" ", "")
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    at = at or timezone.now()
    now_step = totp.timecode(at)
    for step in (now_step, now_step - 1, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(secret: str, code: str) -> bool:
    return matching_step(secret, code) is not None


@transaction.atomic
def check_second_factor(user: User, code: str) -> bool:
    """Accept a sign-in code once: a code already used (or an older one) is refused."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    step = matching_step(locked.totp_secret, code)
    if step is None or (locked.totp_last_step is not None and step <= locked.totp_last_step):
        return False
    locked.totp_last_step = step
    locked.save(update_fields=["totp_last_step"])
    return True


@transaction.atomic
def enable_second_factor(user: User, secret: str, code: str, *, source: str) -> None:
    """Turn on TOTP once the user proves their authenticator app holds ``secret``."""
    if not verify_totp(secret, code):
        raise ValidationError({"code": "That code does not match; enter the 6 digits shown now."})
    user.totp_secret = secret
    user.totp_enabled_at = timezone.now()
    user.totp_last_step = matching_step(secret, code)
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])
    record(user, "user.2fa_enable", user, source=source)


@transaction.atomic
def disable_second_factor(actor, user: User, *, source: str) -> None:
    if actor != user:
        require_admin(actor)
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.save(update_fields=["totp_secret", "totp_enabled_at", "totp_last_step"])
    record(actor, "user.2fa_disable", user, source=source)


# --- API tokens --------------------------------------------------------------------------------


@transaction.atomic
def issue_token(user: User, name: str, *, source: str) -> tuple[ApiToken, str]:
    """Make a personal token; the secret is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the token a name of 1 to 100 characters."})
    if user.api_tokens.filter(name=name).exists():
        raise ValidationError({"name": f"You already have a token named {name!r}."})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=secret[:10], digest=token_digest(secret)
    )
    record(user, "token.issue", token, source=source, changes={"name": [None, name]})
    return token, secret


@transaction.atomic
def revoke_token(actor, token: ApiToken, *, source: str) -> ApiToken:
    if actor != token.user:
        require_admin(actor)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor, "token.revoke", token, source=source)
    return token


def user_for_token(secret: str) -> User | None:
    """The active user a bearer token belongs to, noting when it was last used."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.active().select_related("user").filter(digest=token_digest(secret)).first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def record_sign_in_failure(kind: str, login: str, address: str | None) -> None:
    """Count a wrong password or code toward the limits of ``accounts/throttle.py``.

    Not audited one by one: these rows are the record, kept for a day.
    """
    SignInFailure.objects.create(
        kind=kind, login=normalise_login(login), address=address, at=timezone.now()
    )


def forget_sign_in_failures(kind: str, login: str) -> None:
    """A success clears that login's failures (its address's stay until they age out)."""
    SignInFailure.objects.filter(kind=kind, login=normalise_login(login)).delete()


def forget_old_sign_in_failures(keep: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Drop failures long past the window; returns how many went."""
    deleted, _ = SignInFailure.objects.filter(at__lt=timezone.now() - max(keep, WINDOW)).delete()
    return deleted
