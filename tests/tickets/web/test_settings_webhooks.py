"""Settings: webhooks in the browser, for practice admins only; the test button queues a
delivery for the worker and the log shows every delivery."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from support.pages import all_but
from thirdway.audit.models import AuditRecord
from thirdway.tickets.models import Webhook, WebhookDelivery
from thirdway.tickets.webhooks import services


def _counts() -> tuple[int, int, int]:
    return Webhook.objects.count(), WebhookDelivery.objects.count(), AuditRecord.objects.count()


@pytest.fixture
def hook(cast) -> Webhook:
    return services.create_webhook(
        cast.admin, source="cli", name="Chat", url="https://hooks.example/chat", events=[]
    )


@pytest.mark.parametrize("role", all_but("admin"))
def test_webhooks_do_not_exist_for_anyone_but_a_practice_admin(cast, web_as, hook, role):
    client = web_as(getattr(cast, role))
    before = _counts()
    for path in (
        "/settings/webhooks/",
        "/settings/webhooks/new/",
        f"/settings/webhooks/{hook.pk}/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/settings/webhooks/{hook.pk}/", {"name": "x"}).status_code == 404
    assert client.post(f"/settings/webhooks/{hook.pk}/test/").status_code == 404
    assert client.post(f"/settings/webhooks/{hook.pk}/delete/").status_code == 404
    assert _counts() == before


def test_send_test_queues_a_delivery_for_the_worker_and_delivers_nothing_in_the_request(
    cast, web_as, hook, django_capture_on_commit_callbacks
):
    queued = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(cast.admin).post(f"/settings/webhooks/{hook.pk}/test/")
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.event, delivery.status, delivery.attempts) == ("webhook.test", "pending", 0)
    assert delivery.payload["webhook"] == {"id": hook.pk, "name": "Chat"}
    task = DBTaskResult.objects.get()
    assert queued == 0 and task.args_kwargs["args"] == [delivery.pk]
    assert task.status == "READY"  # waiting for a worker: nothing was sent in the request
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert AuditRecord.objects.filter(action="webhook.test", source="web").count() == 1


def test_a_switched_off_webhook_sends_no_test(cast, web_as, hook):
    services.update_webhook(cast.admin, hook, {"is_active": False}, source="cli")
    before = _counts()
    client = web_as(cast.admin)
    response = client.post(f"/settings/webhooks/{hook.pk}/test/", follow=True)
    assert "The webhook is switched off: nothing would be sent." in response.content.decode()
    assert _counts() == before


def test_the_secret_is_shown_once_when_the_webhook_is_made(cast, web_as):
    client = web_as(cast.admin)
    data = {"name": "Chat", "url": "https://hooks.example/chat", "is_active": "on"}
    created = client.post("/settings/webhooks/new/", data).content.decode()
    hook = Webhook.objects.get()
    assert hook.secret in created
    assert hook.secret not in client.get(f"/settings/webhooks/{hook.pk}/").content.decode()
    assert hook.secret not in client.get("/settings/webhooks/").content.decode()


@pytest.mark.browser
def test_an_admin_adds_tests_and_deletes_a_webhook_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/webhooks/new/")
    form = page.locator("form.form")
    form.locator("input[name=name]").fill("Chat")
    form.locator("input[name=url]").fill("ftp://hooks.example/chat")
    form.get_by_label("ticket.created").check()
    form.get_by_label("ticket.replied").check()
    before = _counts()
    form.get_by_role("button", name="Add webhook").click()
    url_field = page.locator(".field.invalid", has=page.locator("input[name=url]"))
    expect(url_field.locator(".error")).to_have_text(
        "A webhook URL must be http or https. Allowed: an http(s):// URL."
    )
    expect(page.get_by_label("ticket.created")).to_be_checked()
    assert _counts() == before
    page.screenshot(path=str(tmp_path / "webhook-error.png"), full_page=True)

    page.locator("form.form input[name=url]").fill("https://hooks.example/chat")
    page.locator("form.form").get_by_role("button", name="Add webhook").click()
    hook = Webhook.objects.get()
    expect(page.locator("#webhook-secret")).to_have_text(hook.secret)
    assert hook.events == ["ticket.created", "ticket.replied"]
    page.get_by_role("link", name="Go to the webhook").click()

    page.locator("form.form input[name=url]").fill("https://no such host/")
    page.locator("form.form").get_by_role("button", name="Save webhook").click()
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=url]")).locator(".error")
    ).to_have_text("Enter a valid URL.")
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example/chat"

    page.locator("form.form input[name=url]").fill("https://hooks.example/chat2")
    page.locator("form.form").get_by_role("button", name="Save webhook").click()
    expect(page.get_by_text("Webhook Chat saved.")).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("Test delivery queued")).to_be_visible()
    delivery = WebhookDelivery.objects.get(webhook=hook)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="retrying", attempts=2, last_status_code=502, last_error="502 Bad Gateway"
    )
    page.reload()
    row = page.locator("#deliveries tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("webhook.test")
    expect(row).to_contain_text("Retrying")
    expect(row).to_contain_text("502 Bad Gateway")
    page.screenshot(path=str(tmp_path / "webhook-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "webhook-390.png"), full_page=True)
    assert fits(page)
    page.goto(f"{live_server.url}/settings/webhooks/")
    expect(page.locator("#webhooks")).to_contain_text("https://hooks.example/chat2")
    page.screenshot(path=str(tmp_path / "webhooks-390.png"), full_page=True)
    assert fits(page)
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Chat").click()
    page.get_by_role("button", name="Delete webhook").click()
    expect(page.get_by_text("Webhook Chat deleted with its deliveries.")).to_be_visible()
    assert not Webhook.objects.exists()
    assert AuditRecord.objects.filter(action="webhook.delete", source="web").count() == 1


@pytest.mark.browser
def test_an_admin_chooses_the_standard_webhooks_format_in_the_browser(
    cast, live_server, browser, tmp_path
):
    from playwright.sync_api import expect

    from support.browser import DESKTOP, PHONE, fits, sign_in
    from thirdway.tickets.webhooks.outbound import standard_key

    page = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(page, live_server.url, "admin", "/settings/webhooks/new/")
    form = page.locator("form.form")
    form.locator("input[name=name]").fill("Receiver")
    form.locator("input[name=url]").fill("mailto:ops@hooks.example")
    form.get_by_label("Signature format").select_option("standard")
    form.get_by_label("alert.opened").check()
    before = _counts()
    form.get_by_role("button", name="Add webhook").click()
    expect(
        page.locator(".field.invalid", has=page.locator("input[name=url]")).locator(".error")
    ).to_have_text("A webhook URL must be http or https. Allowed: an http(s):// URL.")
    expect(page.get_by_label("Signature format")).to_have_value("standard")
    assert _counts() == before
    page.screenshot(path=str(tmp_path / "standard-error-1366.png"), full_page=True)

    page.locator("form.form input[name=url]").fill("https://hooks.example/alerts")
    page.locator("form.form").get_by_role("button", name="Add webhook").click()
    hook = Webhook.objects.get()
    expect(page.locator("#webhook-secret")).to_have_text(hook.secret)
    expect(page.get_by_role("status")).to_contain_text("webhook-signature")
    assert (hook.format, hook.events) == ("standard", ["alert.opened"])
    assert standard_key(hook.secret) is not None
    page.screenshot(path=str(tmp_path / "standard-created-1366.png"), full_page=True)

    # A webhook made before the whsec_<base64> form gets a new secret when switched.
    Webhook.objects.filter(pk=hook.pk).update(format="thirdway", secret="old-secret")
    page.goto(f"{live_server.url}/settings/webhooks/{hook.pk}/")
    page.get_by_label("Signature format").select_option("standard")
    page.locator("form.form").get_by_role("button", name="Save webhook").click()
    expect(page.get_by_role("status")).to_contain_text("has a new one")
    hook.refresh_from_db()
    assert hook.format == "standard" and standard_key(hook.secret) is not None
    expect(page.locator("#webhook-secret")).to_have_text(hook.secret)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(tmp_path / "standard-renewed-390.png"), full_page=True)
    assert fits(page)
    page.goto(f"{live_server.url}/settings/webhooks/")
    expect(page.locator("#webhooks")).to_contain_text("Standard Webhooks")
    page.screenshot(path=str(tmp_path / "standard-list-390.png"), full_page=True)
    assert fits(page)
