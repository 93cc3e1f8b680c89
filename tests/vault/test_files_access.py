"""Who reads and writes which folder: the precedence rule table by table, inheritance that
follows a change of the parent at once, and every endpoint closed to another client."""

from __future__ import annotations

import re

import pytest

from support.vault_files import API, put, tree, upload
from thirdway.audit.models import Source
from thirdway.vault.file_access import folder_access, resolve
from thirdway.vault.models import StoredFile
from thirdway.vault.services import files

# parents: 1 is the root, 2 under 1, 3 under 2, 4 under 1.
PARENTS = {1: None, 2: 1, 3: 2, 4: 1}


@pytest.mark.parametrize(
    ("grants", "default", "ceiling", "expected"),
    [
        ({}, "none", "write", {1: "none", 2: "none", 3: "none", 4: "none"}),
        ({1: "read"}, "none", "write", {1: "read", 2: "read", 3: "read", 4: "read"}),
        ({1: "read", 2: "write"}, "none", "write", {1: "read", 2: "write", 3: "write", 4: "read"}),
        ({1: "write", 2: "none"}, "none", "write", {1: "write", 2: "none", 3: "none", 4: "write"}),
        ({2: "none", 3: "read"}, "none", "write", {1: "none", 2: "none", 3: "read", 4: "none"}),
        ({}, "write", "write", {1: "write", 2: "write", 3: "write", 4: "write"}),
        ({2: "none"}, "write", "write", {1: "write", 2: "none", 3: "none", 4: "write"}),
        ({1: "write"}, "read", "read", {1: "read", 2: "read", 3: "read", 4: "read"}),
    ],
)
def test_the_nearest_grant_wins_and_never_passes_the_ceiling(grants, default, ceiling, expected):
    assert resolve(PARENTS, grants, default, ceiling) == expected


ROLE_TABLE = [
    # role, grants {folder: (audience, access)}, expected access on (root, contracts, 2026)
    ("admin", [], ("write", "write", "write")),
    ("partner", [], ("write", "write", "write")),
    ("associate", [], ("read", "read", "read")),
    ("associate", [("root", "practice", "write")], ("read", "read", "read")),
    ("desk", [("contracts", "practice", "none")], ("write", "none", "none")),
    ("partner", [("year", "partner", "read")], ("write", "write", "read")),
    ("client_admin", [], ("none", "none", "none")),
    ("client_admin", [("root", "client_admin", "read")], ("read", "read", "read")),
    (
        "client_admin",
        [("root", "client_admin", "read"), ("contracts", "client_admin", "write")],
        ("read", "write", "write"),
    ),
    ("client_user", [("root", "client_admin", "write")], ("none", "none", "none")),
    ("client_user", [("contracts", "client_user", "read")], ("none", "read", "read")),
    ("other_client_admin", [("root", "client_admin", "write")], (None, None, None)),
    ("other_partner", [], (None, None, None)),
    ("outsider", [("root", "client_user", "write")], (None, None, None)),
]


@pytest.mark.parametrize(("role", "grants", "expected"), ROLE_TABLE)
def test_each_role_gets_what_the_rule_says(cast, role, grants, expected):
    root, contracts, year = tree(cast)
    folders = {"root": root, "contracts": contracts, "year": year}
    for name, audience, access in grants:
        files.set_grant(None, folders[name], audience, access, source=Source.CLI)
    seen = folder_access(getattr(cast, role))
    assert tuple(seen.get(f.pk) for f in (root, contracts, year)) == expected


def test_a_subfolder_follows_its_parents_grant_at_once(cast):
    _root, contracts, year = tree(cast)
    put(year, "lease.pdf", b"%PDF-1.4 lease")
    files.set_grant(None, contracts, "client_user", "read", source=Source.CLI)
    assert StoredFile.objects.for_user(cast.client_user).count() == 1
    files.set_grant(None, contracts, "client_user", "none", source=Source.CLI)
    assert StoredFile.objects.for_user(cast.client_user).count() == 0
    files.set_grant(None, contracts, "client_user", None, source=Source.CLI)
    assert StoredFile.objects.for_user(cast.client_user).count() == 0


def test_search_lists_only_the_files_of_folders_one_may_read(cast, api_as):
    root, contracts, year = tree(cast)
    put(root, "contract-public.txt", b"hello")
    put(year, "contract-secret.txt", b"secret")
    files.set_grant(None, root, "client_admin", "read", source=Source.CLI)
    files.set_grant(None, contracts, "client_admin", "none", source=Source.CLI)
    answer = api_as(cast.client_admin).get(API, {"q": "contract"})
    assert [row["name"] for row in answer.json()["items"]] == ["contract-public.txt"]
    answer = api_as(cast.partner).get(API, {"q": "contract"})
    assert {row["name"] for row in answer.json()["items"]} == {
        "contract-public.txt",
        "contract-secret.txt",
    }


def test_another_clients_files_are_not_found_on_every_endpoint(cast, api_as):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    files.set_grant(None, root, "client_admin", "write", source=Source.CLI)
    globex = api_as(cast.other_client_admin)
    other_partner = api_as(cast.other_partner)
    fid, folder = made.pk, contracts.pk
    for client in (globex, other_partner):
        for method, url, body in [
            ("get", f"{API}/{fid}", None),
            ("get", f"{API}/{fid}/download", None),
            ("get", f"{API}/{fid}/versions", None),
            ("get", f"{API}/{fid}/notes", None),
            ("post", f"{API}/{fid}/notes", {"text": "hi"}),
            ("post", f"{API}/{fid}/restore", {"version": 1}),
            ("post", f"{API}/{fid}/copy", {"folder": folder, "name": "x"}),
            ("put", f"{API}/{fid}/expiry", {"expires_on": None}),
            ("post", f"{API}/{fid}/untrash", {}),
            ("get", f"{API}/folders/{folder}/notes", None),
            ("post", f"{API}/folders/{folder}/notes", {"text": "hi"}),
            (
                "put",
                f"{API}/folders/{folder}/permissions",
                {"audience": "partner", "access": "read"},
            ),
        ]:
            call = getattr(client, method)
            answer = call(url) if body is None else call(url, body, content_type="application/json")
            assert answer.status_code == 404, (method, url, answer.content)
        assert upload(client, folder, "x.txt", b"x").status_code == 400
        assert client.get(f"{API}/quota/{cast.acme.pk}").status_code == 404
        assert client.get(API, {"client": cast.acme.pk}).json()["items"] == []
    assert StoredFile.objects.count() == 1


def test_reading_is_not_writing(cast, api_as):
    root, _, _ = tree(cast)
    files.set_grant(None, root, "client_user", "read", source=Source.CLI)
    made = put(root, "plan.txt", b"plan")
    bob = api_as(cast.client_user)
    assert bob.get(f"{API}/{made.pk}/download").status_code == 200
    assert upload(bob, root.pk, "mine.txt", b"x").status_code == 403
    answer = bob.post(f"{API}/{made.pk}/notes", {"text": "hi"}, content_type="application/json")
    assert answer.status_code == 403
    answer = bob.put(
        f"{API}/folders/{root.pk}/permissions",
        {"audience": "client_user", "access": "write"},
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert StoredFile.objects.count() == 1


def test_notes_go_on_files_and_folders(cast, api_as):
    root, contracts, _ = tree(cast)
    made = put(root, "plan.txt", b"plan")
    paula = api_as(cast.partner)
    answer = paula.post(
        f"{API}/{made.pk}/notes", {"text": "Draft"}, content_type="application/json"
    )
    assert answer.status_code == 201 and answer.json()["text"] == "Draft"
    answer = paula.post(
        f"{API}/folders/{contracts.pk}/notes",
        {"text": "Originals in the safe"},
        content_type="application/json",
    )
    assert answer.status_code == 201
    assert [n["text"] for n in paula.get(f"{API}/{made.pk}/notes").json()] == ["Draft"]
    assert paula.get(f"{API}/folders/{contracts.pk}/notes").json()[0]["folder_id"] == contracts.pk
    answer = paula.post(f"{API}/{made.pk}/notes", {"text": "  "}, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "text"


def test_every_files_endpoint_answers_401_without_a_token(cast, client):
    schema = client.get("/api/v1/openapi.json").json()
    tried = 0
    for url, methods in schema["paths"].items():
        if not url.startswith(API):
            continue
        for method in methods:
            path = re.sub(r"\{[a-z_]+\}", "1", url)
            call = getattr(client, method)
            answer = (
                call(path) if method == "get" else call(path, {}, content_type="application/json")
            )
            assert answer.status_code == 401, (method, url)
            tried += 1
    assert tried == 24
