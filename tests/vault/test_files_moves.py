"""Moving and renaming files and folders, and folders in the trash: within one client, with
write on both ends, never a folder under itself, names as for uploads, the quota kept."""

from __future__ import annotations

import pytest

from support.vault_files import API, put, tree
from thirdway.audit.models import AuditRecord, Source
from thirdway.vault.models import FileQuota, FileVersion, Folder, StoredFile
from thirdway.vault.services import files

JSON = {"content_type": "application/json"}


def _move(client, url, body):
    return client.post(url, body, **JSON)


def test_a_file_moves_and_is_renamed_with_an_audit_record(cast, api_as):
    root, _contracts, year = tree(cast)
    made = put(root, "lease.pdf", b"%PDF-1.4 lease")
    paula = api_as(cast.partner)
    answer = _move(paula, f"{API}/{made.pk}/move", {"folder": year.pk, "name": "lease-2026.pdf"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["folder_id"] == year.pk and answer.json()["name"] == "lease-2026.pdf"
    made.refresh_from_db()
    assert (made.folder_id, made.name) == (year.pk, "lease-2026.pdf")
    event = AuditRecord.objects.get(action="file.move")
    assert event.changes == {
        "folder": [root.pk, year.pk],
        "name": ["lease.pdf", "lease-2026.pdf"],
    }
    answer = _move(paula, f"{API}/{made.pk}/move", {"name": "lease.pdf"})
    assert answer.status_code == 200 and answer.json()["folder_id"] == year.pk


@pytest.mark.parametrize(
    "name", ["..", "a/b", "a\\b", "bad\x00name", "tab\there", "x" * 256, "", " lead"]
)
def test_a_bad_name_is_a_400_naming_the_field_and_nothing_moves(cast, api_as, name):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    paula = api_as(cast.partner)
    answer = _move(paula, f"{API}/{made.pk}/move", {"folder": contracts.pk, "name": name})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "name"
    answer = _move(paula, f"{API}/folders/{contracts.pk}/move", {"name": name})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "name"
    made.refresh_from_db()
    contracts.refresh_from_db()
    assert (made.folder_id, made.name, contracts.name) == (root.pk, "plan.txt", "Contracts")


def test_a_name_already_taken_is_a_400_naming_it(cast, api_as):
    root, contracts, year = tree(cast)
    made = put(root, "plan.txt", b"plan")
    put(contracts, "plan.txt", b"other")
    files.create_folder(None, contracts, "2025", source=Source.CLI)
    paula = api_as(cast.partner)
    answer = _move(paula, f"{API}/{made.pk}/move", {"folder": contracts.pk})
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["field"] == "name" and "already" in error["problem"]
    answer = _move(paula, f"{API}/folders/{year.pk}/move", {"name": "2025"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "name"
    assert StoredFile.objects.get(pk=made.pk).folder_id == root.pk


def test_a_folder_moves_but_never_under_itself(cast, api_as):
    root, contracts, year = tree(cast)
    paula = api_as(cast.partner)
    for target in (contracts, year):
        answer = _move(paula, f"{API}/folders/{contracts.pk}/move", {"parent": target.pk})
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["field"] == "parent"
    answer = _move(paula, f"{API}/folders/{root.pk}/move", {"name": "x"})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "folder"
    answer = _move(paula, f"{API}/folders/{year.pk}/move", {"parent": root.pk, "name": "Y2026"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["parent_id"] == root.pk and answer.json()["name"] == "Y2026"
    assert AuditRecord.objects.filter(action="folder.move").count() == 1


def test_a_moved_folder_inherits_from_its_new_parents_at_once(cast, api_as):
    root, contracts, year = tree(cast)
    hr = files.create_folder(None, root, "HR", source=Source.CLI)
    put(year, "lease.pdf", b"lease")
    files.set_grant(None, contracts, "client_user", "read", source=Source.CLI)
    files.set_grant(None, hr, "client_user", "none", source=Source.CLI)
    assert StoredFile.objects.for_user(cast.client_user).count() == 1
    answer = _move(api_as(cast.partner), f"{API}/folders/{year.pk}/move", {"parent": hr.pk})
    assert answer.status_code == 200
    assert StoredFile.objects.for_user(cast.client_user).count() == 0


def test_moving_needs_write_on_both_ends(cast, api_as):
    root, contracts, year = tree(cast)
    made = put(contracts, "plan.txt", b"plan")
    files.set_grant(None, root, "client_admin", "read", source=Source.CLI)
    files.set_grant(None, contracts, "client_admin", "write", source=Source.CLI)
    anna = api_as(cast.client_admin)
    # Write on the source, read only where it would go.
    answer = _move(anna, f"{API}/{made.pk}/move", {"folder": root.pk})
    assert answer.status_code == 403
    answer = _move(anna, f"{API}/folders/{year.pk}/move", {"parent": root.pk})
    assert answer.status_code == 403
    # Read only on the source.
    other = put(root, "readme.txt", b"hi")
    answer = _move(anna, f"{API}/{other.pk}/move", {"folder": contracts.pk})
    assert answer.status_code == 403
    # Write on both: allowed.
    answer = _move(anna, f"{API}/{made.pk}/move", {"folder": year.pk})
    assert answer.status_code == 200
    assert StoredFile.objects.get(pk=other.pk).folder_id == root.pk


def test_another_clients_folder_is_not_a_destination(cast, api_as):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    globex_root = files.root_of(cast.globex)
    admin = api_as(cast.admin)
    answer = _move(admin, f"{API}/{made.pk}/move", {"folder": globex_root.pk})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "folder"
    answer = _move(admin, f"{API}/folders/{contracts.pk}/move", {"parent": globex_root.pk})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "parent"
    assert StoredFile.objects.get(pk=made.pk).folder_id == root.pk


def test_moves_and_the_folder_trash_are_closed_to_another_client(cast, api_as):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    for user in (cast.other_client_admin, cast.other_partner):
        other = api_as(user)
        for url, body in [
            (f"{API}/{made.pk}/move", {"name": "x"}),
            (f"{API}/folders/{contracts.pk}/move", {"name": "x"}),
            (f"{API}/folders/{contracts.pk}/trash", {}),
            (f"{API}/folders/{contracts.pk}/untrash", {}),
        ]:
            assert _move(other, url, body).status_code == 404, url
        assert other.delete(f"{API}/folders/{contracts.pk}").status_code == 404
    contracts.refresh_from_db()
    assert contracts.name == "Contracts" and contracts.deleted_at is None


def test_a_folder_goes_to_the_trash_with_its_content_and_still_counts(cast, api_as):
    root, contracts, year = tree(cast)
    put(contracts, "a.txt", b"12345")
    put(year, "b.txt", b"123")
    paula = api_as(cast.partner)
    answer = _move(paula, f"{API}/folders/{contracts.pk}/trash", {})
    assert answer.status_code == 200 and answer.json()["in_trash"] is True
    assert Folder.objects.get(pk=year.pk).deleted_at is not None
    assert paula.get(API, {"client": cast.acme.pk}).json()["items"] == []
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 8
    # Nothing new goes into a folder in the trash; a folder of its name may be made again.
    answer = _move(paula, f"{API}/{StoredFile.objects.get(name='b.txt').pk}/move", {"name": "c"})
    assert answer.status_code == 400
    files.create_folder(None, root, "Contracts", source=Source.CLI)
    answer = _move(paula, f"{API}/folders/{contracts.pk}/untrash", {})
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "name"
    Folder.objects.filter(parent=root, name="Contracts", deleted_at=None).delete()
    answer = _move(paula, f"{API}/folders/{contracts.pk}/untrash", {})
    assert answer.status_code == 200 and answer.json()["in_trash"] is False
    assert len(paula.get(API, {"client": cast.acme.pk}).json()["items"]) == 2


def test_deleting_a_trashed_folder_for_good_frees_its_bytes(cast, api_as):
    root, contracts, year = tree(cast)
    put(contracts, "a.txt", b"12345")
    put(year, "b.txt", b"123")
    put(root, "keep.txt", b"12")
    paula = api_as(cast.partner)
    assert paula.delete(f"{API}/folders/{contracts.pk}").status_code == 400
    _move(paula, f"{API}/folders/{contracts.pk}/trash", {})
    answer = paula.delete(f"{API}/folders/{contracts.pk}")
    assert answer.status_code == 200 and answer.json()["freed_bytes"] == 8
    assert FileQuota.objects.get(client=cast.acme).used_bytes == 2
    assert not Folder.objects.filter(pk__in=[contracts.pk, year.pk]).exists()
    assert list(StoredFile.objects.values_list("name", flat=True)) == ["keep.txt"]
    assert FileVersion.objects.count() == 1
    assert AuditRecord.objects.filter(action__in=["folder.trash", "folder.purge"]).count() == 2


def test_a_narrower_grant_below_blocks_the_trash(cast, api_as):
    root, contracts, year = tree(cast)
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    files.set_grant(None, year, "client_admin", "read", source=Source.CLI)
    anna = api_as(cast.client_admin)
    assert _move(anna, f"{API}/folders/{contracts.pk}/trash", {}).status_code == 403
    assert Folder.objects.filter(deleted_at__isnull=False).count() == 0
    assert _move(anna, f"{API}/folders/{root.pk}/trash", {}).status_code == 400


def test_the_pages_move_rename_and_trash(cast, web_as):
    root, contracts, year = tree(cast)
    made = put(root, "plan.txt", b"plan")
    paula = web_as(cast.partner)
    page = paula.get(f"/vault/files/{made.pk}/")
    assert b"Rename or move" in page.content and b"/Contracts/2026" in page.content
    answer = paula.post(f"/vault/files/{made.pk}/move/", {"folder": year.pk, "name": "../x"})
    assert answer.status_code == 400 and b"A name cannot be a path." in answer.content
    answer = paula.post(f"/vault/files/{made.pk}/move/", {"folder": year.pk, "name": "p.txt"})
    assert answer.status_code == 302
    assert StoredFile.objects.get(pk=made.pk).folder_id == year.pk
    answer = paula.post(
        f"/vault/files/folders/{contracts.pk}/move/", {"parent": year.pk, "name": "C"}
    )
    assert answer.status_code == 400
    put(contracts, "inside.txt", b"inside")
    answer = paula.post(f"/vault/files/folders/{contracts.pk}/trash/")
    assert answer.status_code == 302
    page = paula.get(f"/vault/files/folders/{root.pk}/")
    assert b"folder in the trash" in page.content
    # The trashed folder's own page still shows what went with it, with nothing to change.
    page = paula.get(f"/vault/files/folders/{contracts.pk}/")
    assert b"This folder is in the trash" in page.content
    assert b"inside.txt" in page.content and b"2026" in page.content
    assert b"Upload a file" not in page.content
    answer = paula.post(f"/vault/files/folders/{contracts.pk}/untrash/")
    assert Folder.objects.get(pk=contracts.pk).deleted_at is None


def test_the_move_pages_are_closed_to_another_client(cast, web_as):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    other = web_as(cast.other_partner)
    assert other.post(f"/vault/files/{made.pk}/move/", {"name": "x"}).status_code == 404
    for act in ("move", "trash", "untrash", "purge"):
        answer = other.post(f"/vault/files/folders/{contracts.pk}/{act}/", {"name": "x"})
        assert answer.status_code == 404, act


@pytest.mark.django_db(transaction=True)
def test_two_moves_at_once_never_make_a_loop(cast, threads_db):
    """A under B and B under A at the same moment: one wins, the other is refused."""
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connection

    root = files.root_of(cast.acme)
    first = files.create_folder(None, root, "A", source=Source.CLI)
    second = files.create_folder(None, root, "B", source=Source.CLI)
    use = threads_db()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def move(folder_id: int, parent_id: int) -> None:
        from thirdway.vault.services import file_moves

        try:
            with use():
                folder, parent = Folder.objects.get(pk=folder_id), Folder.objects.get(pk=parent_id)
                start.wait()
                file_moves.move_folder(None, folder, parent, folder.name, source=Source.CLI)
        except ValidationError:
            outcomes.append("refused")
        else:
            outcomes.append("moved")
        finally:
            connection.close()

    workers = [
        threading.Thread(target=move, args=(first.pk, second.pk)),
        threading.Thread(target=move, args=(second.pk, first.pk)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(outcomes) == ["moved", "refused"]
    with use():
        parents = dict(Folder.objects.values_list("pk", "parent_id"))
    # Each folder still reaches the root.
    for pk in (first.pk, second.pk):
        seen, current = set(), pk
        while current is not None:
            assert current not in seen
            seen.add(current)
            current = parents[current]


def test_each_folder_shows_its_bytes_by_type_and_the_api_per_folder(cast, web_as, api_as):
    root, contracts, year = tree(cast)
    put(year, "lease.pdf", b"%PDF-1.4 " + b"x" * 91)
    put(contracts, "notes.txt", b"n" * 40)
    put(root, "top.txt", b"t" * 7)
    page = web_as(cast.partner).get(f"/vault/files/folders/{contracts.pk}/")
    text = page.content.decode()
    assert "hold 140\xa0bytes" in text
    assert "application/pdf 100\xa0bytes · text/plain 40\xa0bytes" in text
    files.set_grant(None, contracts, "client_admin", "read", source=Source.CLI)
    files.set_grant(None, year, "client_admin", "none", source=Source.CLI)
    answer = api_as(cast.client_admin).get(f"{API}/quota/{cast.acme.pk}")
    assert answer.status_code == 200
    assert answer.json()["by_folder"] == [{"folder_id": contracts.pk, "bytes": 140}]
    assert api_as(cast.other_client_admin).get(f"{API}/quota/{cast.acme.pk}").status_code == 404
