"""The headers that keep pages and answers safe: a Content-Security-Policy on every page, and
nothing a signed-in person sees kept in a cache.  (tests/support/headers.py checks the same on
every request of every test; these name the cases.)"""

from __future__ import annotations

from django.test import Client as HttpClient

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
