"""The file browser's pages: what each one shows, uploads with the quota, refusals beside the
field, and the permissions editor kept to the practice."""

from __future__ import annotations

from django.core.files.base import ContentFile

from support.vault_files import put, tree
from thirdway.audit.models import Source
from thirdway.vault.models import FileNote, FileQuota, StoredFile
from thirdway.vault.services import files


def test_a_partner_sees_the_folder_with_its_quota_and_uploads(cast, web_as):
    root, _contracts, _ = tree(cast)
    files.set_quota(None, cast.acme, 2048, source=Source.CLI)
    paula = web_as(cast.partner)
    page = paula.get(f"/vault/clients/{cast.acme.pk}/files/", follow=True)
    assert page.status_code == 200
    assert b"Contracts" in page.content and b"vault-quota-bar" in page.content
    answer = paula.post(
        f"/vault/files/folders/{root.pk}/upload/",
        {"file": ContentFile(b"hello world", name="hello.txt"), "name": ""},
    )
    assert answer.status_code == 302
    page = paula.get(f"/vault/files/folders/{root.pk}/")
    assert b"hello.txt" in page.content
    assert b'value="11"' in page.content


def test_an_upload_over_the_quota_says_the_limit_and_stores_nothing(cast, web_as):
    root, _, _ = tree(cast)
    files.set_quota(None, cast.acme, 10, source=Source.CLI)
    answer = web_as(cast.partner).post(
        f"/vault/files/folders/{root.pk}/upload/",
        {"file": ContentFile(b"x" * 11, name="big.bin")},
    )
    assert answer.status_code == 413
    assert b"quota of 10 bytes" in answer.content
    assert StoredFile.objects.count() == 0
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 0


def test_a_name_that_is_a_path_is_refused_beside_the_field(cast, web_as):
    root, _, _ = tree(cast)
    answer = web_as(cast.partner).post(
        f"/vault/files/folders/{root.pk}/upload/",
        {"file": ContentFile(b"x", name="a.txt"), "name": "../a.txt"},
    )
    assert answer.status_code == 400
    assert b"A name cannot be a path." in answer.content
    assert StoredFile.objects.count() == 0


def test_the_upload_form_keeps_its_csrf_check(cast, client):
    root, _, _ = tree(cast)
    from django.test import Client as HttpClient

    strict = HttpClient(enforce_csrf_checks=True)
    strict.force_login(cast.partner)
    answer = strict.post(
        f"/vault/files/folders/{root.pk}/upload/", {"file": ContentFile(b"x", name="a.txt")}
    )
    assert answer.status_code == 403
    assert StoredFile.objects.count() == 0


def test_a_file_page_shows_versions_and_takes_notes_and_an_expiry(cast, web_as):
    root, _, _ = tree(cast)
    made = put(root, "lease.pdf", b"%PDF-1.4 one")
    files.add_version(None, made, ContentFile(b"%PDF-1.4 two"), source=Source.CLI)
    paula = web_as(cast.partner)
    page = paula.get(f"/vault/files/{made.pk}/")
    assert b"v2" in page.content and b"v1" in page.content
    assert paula.post(f"/vault/files/{made.pk}/note/", {"text": "Signed copy"}).status_code == 302
    assert FileNote.objects.get().body == "Signed copy"
    answer = paula.post(f"/vault/files/{made.pk}/expiry/", {"expires_on": "2030-01-31"})
    assert answer.status_code == 302
    made.refresh_from_db()
    assert made.expiry.kind == "file" and str(made.expiry.expires_on) == "2030-01-31"
    from thirdway.vault.models import ExpiryItem

    assert ExpiryItem.objects.for_user(cast.partner).filter(kind="file").count() == 1
    assert not ExpiryItem.objects.for_user(cast.client_admin).filter(kind="file").exists()
    answer = paula.post(f"/vault/files/{made.pk}/note/", {"text": " "})
    assert answer.status_code == 400


def test_an_expired_file_leaves_the_list_and_is_archived(cast, web_as):
    import datetime as dt

    root, _, _ = tree(cast)
    made = put(root, "old-offer.pdf", b"%PDF old")
    files.set_expiry(None, made, dt.date(2020, 1, 1), source=Source.CLI)
    assert files.archive_expired() == 1
    page = web_as(cast.partner).get(f"/vault/files/folders/{root.pk}/")
    listed = page.content.split(b"Archived and trash")[0]
    assert b"old-offer.pdf" not in listed
    assert b"old-offer.pdf" in page.content


def test_the_permissions_editor_is_the_practices(cast, web_as):
    root, contracts, _ = tree(cast)
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    assert (
        web_as(cast.client_admin)
        .get(f"/vault/files/folders/{contracts.pk}/permissions/")
        .status_code
        == 403
    )
    paula = web_as(cast.partner)
    page = paula.get(f"/vault/files/folders/{contracts.pk}/permissions/")
    assert page.status_code == 200 and b"The client&#x27;s admins" in page.content
    answer = paula.post(
        f"/vault/files/folders/{contracts.pk}/permissions/",
        {"audience": "client_admin", "access": "none"},
    )
    assert answer.status_code == 302
    assert web_as(cast.client_admin).get(f"/vault/files/folders/{contracts.pk}/").status_code == 404


def test_another_clients_folders_and_files_are_not_found(cast, web_as):
    root, _, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    gina = web_as(cast.other_client_admin)
    for url in [
        f"/vault/files/folders/{root.pk}/",
        f"/vault/files/{made.pk}/",
        f"/vault/files/{made.pk}/download/",
        f"/vault/clients/{cast.acme.pk}/files/",
        f"/vault/clients/{cast.acme.pk}/files/quota/",
    ]:
        assert gina.get(url).status_code == 404, url
    answer = gina.post(
        f"/vault/files/folders/{root.pk}/upload/", {"file": ContentFile(b"x", name="a.txt")}
    )
    assert answer.status_code == 404
    for url, data in [
        (f"/vault/files/folders/{root.pk}/new/", {"name": "x"}),
        (f"/vault/files/folders/{root.pk}/note/", {"text": "x"}),
        (f"/vault/files/folders/{root.pk}/permissions/", {"audience": "partner", "access": "none"}),
        (f"/vault/files/{made.pk}/version/", {"file": ContentFile(b"x", name="a.txt")}),
        (f"/vault/files/{made.pk}/restore/1/", {}),
        (f"/vault/files/{made.pk}/copy/", {"folder": root.pk, "name": "y"}),
        (f"/vault/files/{made.pk}/note/", {"text": "x"}),
        (f"/vault/files/{made.pk}/expiry/", {"expires_on": "2030-01-01"}),
        (f"/vault/files/{made.pk}/trash/", {}),
        (f"/vault/files/{made.pk}/purge/", {}),
    ]:
        assert gina.post(url, data).status_code == 404, url
    made.refresh_from_db()
    assert made.version == 1 and made.deleted_at is None and made.expires_on is None


def test_a_files_expiry_reminder_names_the_file_only_to_the_network(cast, web_as):
    """The client's contacts see the reminder ticket but not every folder: its subject and
    first message say "a stored file"; an internal note names it for the network."""
    import datetime as dt

    from thirdway.tickets.models import Ticket
    from thirdway.vault.services import expirations

    root, _, _ = tree(cast)
    made = put(root, "board-minutes-secret.pdf", b"%PDF minutes")
    today = dt.date(2026, 12, 6)
    files.set_expiry(None, made, today + dt.timedelta(days=7), source=Source.CLI)
    assert len(expirations.send_due_reminders(today)) == 1
    ticket = Ticket.objects.get(category="Renewal")
    assert ticket.subject == "A stored file expires in 7 days (2026-12-13)"
    portal = web_as(cast.client_admin).get(f"/portal/tickets/{ticket.pk}/")
    assert portal.status_code == 200, portal.status_code
    assert b"board-minutes-secret" not in portal.content
    desk = web_as(cast.partner).get(f"/tickets/{ticket.pk}/")
    assert b"board-minutes-secret.pdf" in desk.content
