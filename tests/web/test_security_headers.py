"""The headers that keep pages and answers safe: a Content-Security-Policy on every page, and
nothing a signed-in person sees kept in a cache.  (tests/support/headers.py checks the same on
every request of every test; these name the cases.)"""

from __future__ import annotations

import re

from django.core.management import call_command
from django.test import Client as HttpClient

from support.api import API
from support.headers import POLICY, policy_of

PAGES = ["/", "/tickets/", "/clients/", "/partners/", "/accounts/settings/", "/admin/"]


def test_every_page_carries_the_content_security_policy(cast, web_as):
    signed_in = web_as(cast.admin)
    for path in PAGES:
        response = signed_in.get(path, follow=True)
        assert response.status_code == 200, path
        assert policy_of(response) == POLICY, path
    for path in ["/accounts/login/", "/portal/login/"]:
        assert policy_of(HttpClient().get(path)) == POLICY, path


def test_the_policy_allows_no_inline_script_style_or_eval(cast, web_as):
    policy = policy_of(web_as(cast.admin).get("/tickets/"))
    assert "unsafe" not in " ".join(policy.values())
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


def test_pages_to_a_signed_in_person_are_never_stored(cast, web_as):
    signed_in = web_as(cast.partner)
    for path in ["/", "/tickets/", "/clients/", f"/clients/{cast.acme.pk}/"]:
        assert signed_in.get(path)["Cache-Control"] == "no-store, private", path


def test_api_answers_to_a_token_or_a_session_are_never_stored(cast, api_as, web_as):
    for http in (api_as(cast.partner), web_as(cast.partner)):
        for path in ["/me", "/clients", "/tickets"]:
            response = http.get(f"{API}{path}")
            assert response.status_code == 200, path
            assert response["Cache-Control"] == "no-store, private", path


def test_static_files_keep_their_long_caching_for_signed_in_people(
    cast, web_as, settings, tmp_path
):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    signed_in = web_as(cast.partner)
    page = signed_in.get("/").content.decode()
    stylesheet = re.search(r'href="(/static/web/thirdway\.[0-9a-f]+\.css)"', page).group(1)

    response = signed_in.get(stylesheet)

    assert response.status_code == 200
    caching = response["Cache-Control"]
    assert "no-store" not in caching and "private" not in caching
    assert re.search(r"max-age=(\d+)", caching).group(1) == "315360000"
