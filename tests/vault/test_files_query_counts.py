"""The file browser's lists, page and API alike, ask the same number of queries for 1 file
and folder or 12."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from support.vault_files import API, put
from thirdway.audit.models import Source
from thirdway.vault.services import files

MORE = 11


def _add(root, number: int) -> None:
    folder = files.create_folder(None, root, f"Folder {number}", source=Source.CLI)
    put(root, f"file-{number}.txt", b"text")
    put(folder, f"inner-{number}.txt", b"inner")
    files.add_note(None, root, f"Note {number}", source=Source.CLI)


def _counts(cast, web, api, root) -> list[int]:
    urls = [
        (web, f"/vault/files/folders/{root.pk}/"),
        (api, API),
        (api, f"{API}/folders?client={cast.acme.pk}"),
        (api, f"{API}/quota/{cast.acme.pk}"),
    ]
    counts = []
    for client, url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts.append(len(queries))
    return counts


def test_each_files_list_asks_a_fixed_number_of_queries(cast, web_as, api_as):
    web, api = web_as(cast.client_admin), api_as(cast.client_admin)
    api.get("/api/v1/me")  # the token's first use is noted once
    root = files.root_of(cast.acme)
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    _add(root, 0)
    few = _counts(cast, web, api, root)
    for number in range(1, 1 + MORE):
        _add(root, number)
    assert _counts(cast, web, api, root) == few


def test_one_item_reads_only_its_folders_ancestors(cast, api_as, web_as):
    """Asking about one file or folder reads its folder's chain up to the root, never the
    client's whole tree: the queries follow the depth, not the number of folders."""
    from thirdway.vault.file_access import folder_access

    root = files.root_of(cast.acme)
    chain = [root]
    for depth in range(4):
        chain.append(files.create_folder(None, chain[-1], f"Level {depth}", source=Source.CLI))
    deep = put(chain[-1], "deep.txt", b"deep")
    shallow = put(chain[1], "shallow.txt", b"shallow")
    seen = folder_access(cast.partner, folder_ids=[chain[2].pk])
    assert set(seen) == {f.pk for f in chain[:3]}

    api = api_as(cast.partner)
    api.get("/api/v1/me")

    def asked(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200, url
        return len(queries)

    before = (asked(f"{API}/{deep.pk}"), asked(f"{API}/{shallow.pk}"))
    # Three levels deeper: three more queries, one per level.
    assert before[0] == before[1] + 3
    for number in range(30):
        sibling = files.create_folder(None, root, f"Sibling {number}", source=Source.CLI)
        files.create_folder(None, sibling, "Inner", source=Source.CLI)
    assert (asked(f"{API}/{deep.pk}"), asked(f"{API}/{shallow.pk}")) == before
