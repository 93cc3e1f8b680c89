"""Signing in (with an optional TOTP second factor), and the account settings page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from thirdway.accounts import services, throttle
from thirdway.accounts.models import ApiToken, FailureKind, User
from thirdway.audit.models import Source
from thirdway.web.forms import add_service_errors

PENDING_USER = "second_factor_pending_user"
PENDING_NEXT = "second_factor_pending_next"
PENDING_SECRET = "second_factor_enrol_secret"


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=8,
        label="Code from your authenticator app",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name")


class SignInForm(AuthenticationForm):
    """The password step, slowed down after repeated failures (``accounts/throttle.py``)."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()
        address = throttle.client_address(self.request)
        wait = throttle.seconds_to_wait(FailureKind.PASSWORD, username, address)
        if wait:
            raise ValidationError(throttle.wait_message(wait), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code == "invalid_login":
                services.record_sign_in_failure(FailureKind.PASSWORD, username, address)
            raise
        services.forget_sign_in_failures(FailureKind.PASSWORD, username)
        return cleaned

    @property
    def throttled(self) -> bool:
        return self.has_error(forms.forms.NON_FIELD_ERRORS, "throttled")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return "/"


def sign_in(request: HttpRequest) -> HttpResponse:
    """Password first; users with a second factor then give a TOTP code."""
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if user.has_second_factor:
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_NEXT] = _safe_next(request)
            return redirect("accounts:login_code")
        login(request, user)
        return redirect(_safe_next(request))
    status = 429 if form.is_bound and form.throttled else 200
    context = {"form": form, "next": _safe_next(request)}
    return render(request, "accounts/login.html", context, status=status)


def sign_in_code(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    if user_id is None:
        return redirect("accounts:login")
    user = get_object_or_404(User, pk=user_id, is_active=True)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        address = throttle.client_address(request)
        wait = throttle.seconds_to_wait(FailureKind.CODE, user.username, address)
        if wait:
            form.add_error(None, throttle.wait_message(wait))
            status = 429
        elif services.check_second_factor(user, form.cleaned_data["code"]):
            services.forget_sign_in_failures(FailureKind.CODE, user.username)
            target = request.session.get(PENDING_NEXT, "/")
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(target)
        else:
            services.record_sign_in_failure(FailureKind.CODE, user.username, address)
            form.add_error(
                "code",
                "That code does not match or was already used; enter the 6 digits shown now.",
            )
    return render(request, "accounts/login_code.html", {"form": form}, status=status)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    tokens = ApiToken.objects.for_user(request.user)
    return render(request, "accounts/settings.html", {"tokens": tokens, "token_form": TokenForm()})


@login_required
@require_POST
def issue_token(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    secret = None
    if form.is_valid():
        try:
            _, secret = services.issue_token(
                request.user, form.cleaned_data["name"], source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
    tokens = ApiToken.objects.for_user(request.user)
    context = {"tokens": tokens, "token_form": form, "new_secret": secret}
    return render(request, "accounts/settings.html", context, status=200 if secret else 400)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=token_id)
    services.revoke_token(request.user, token, source=Source.WEB)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("accounts:settings")


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: show a secret, then check one code from it."""
    user = request.user
    if user.has_second_factor:
        messages.info(request, "Turn off your current second factor first (it asks for a code).")
        return redirect("accounts:settings")
    secret = request.session.get(PENDING_SECRET) or services.new_totp_secret()
    request.session[PENDING_SECRET] = secret
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enable_second_factor(
                user, secret, form.cleaned_data["code"], source=Source.WEB
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            del request.session[PENDING_SECRET]
            messages.success(request, "Second factor enabled.")
            return redirect("accounts:settings")
    context = {"form": form, "secret": secret, "uri": services.totp_uri(user, secret)}
    return render(request, "accounts/second_factor.html", context)


@login_required
@require_POST
def disable_second_factor(request: HttpRequest) -> HttpResponse:
    """Turning the factor off takes a current code, so a borrowed session cannot do it."""
    if not services.check_second_factor(request.user, request.POST.get("code", "")):
        messages.error(request, "That code does not match; the second factor stays on.")
        return redirect("accounts:settings")
    services.disable_second_factor(request.user, request.user, source=Source.WEB)
    messages.success(request, "Second factor turned off.")
    return redirect("accounts:settings")
