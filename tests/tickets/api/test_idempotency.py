"""A POST retried with the same Idempotency-Key is done once and answered the same every time."""

import datetime as dt
import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.utils import timezone

from thirdway.accounts import services as accounts
from thirdway.audit.models import Source
from thirdway.tickets import idempotency, services
from thirdway.tickets.models import Article, Attachment, IdempotentRequest, Ticket

from .conftest import API, post

KEY = "Idempotency-Key"


def ticket_payload(cast, subject="Till printer jammed"):
    return {"client": cast.acme.pk, "subject": subject, "body_text": "Paper everywhere."}


def fire(shared, user, url: str, payload: dict, key: str, count: int = 50) -> tuple:
    """``count`` threads send the same POST at the same moment, each on its own connection;
    the answers as (status, JSON body, replayed)."""
    _, secret = accounts.issue_token(user, f"retries-{key}", source=Source.CLI)
    clients = [HttpClient(headers={"Authorization": f"Bearer {secret}"}) for _ in range(count)]
    body = json.dumps(payload)
    use_db = shared()
    start = threading.Barrier(count)
    answers: list[tuple[int, dict, bool]] = []
    failures: list[BaseException] = []

    def send(client) -> None:
        try:
            with use_db():
                start.wait()
                response = client.post(
                    API + url, data=body, content_type="application/json", headers={KEY: key}
                )
                replayed = response.has_header("Idempotent-Replayed")
                answers.append((response.status_code, response.json(), replayed))
        except BaseException as error:  # reported below, not lost in the thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(answers) == count
    return answers, use_db


def assert_one_answer(answers) -> tuple[int, dict]:
    first = answers[0][:2]
    assert all(answer[:2] == first for answer in answers)
    assert sum(1 for answer in answers if not answer[2]) == 1  # one did the work
    return first


@pytest.mark.django_db(transaction=True)
def test_fifty_retries_at_the_same_moment_make_one_ticket_and_get_one_answer(
    cast, threads_db, settings
):
    settings.IDEMPOTENCY_WAIT_SECONDS = 60  # a loaded test machine must not turn waits into 409s
    answers, use_db = fire(threads_db, cast.partner, "/tickets", ticket_payload(cast), "till-1")
    status, body = assert_one_answer(answers)
    with use_db():
        [ticket] = Ticket.objects.filter(subject="Till printer jammed")
        assert Article.objects.filter(ticket=ticket).count() == 1
        assert (status, body["id"]) == (201, ticket.pk)
        row = IdempotentRequest.objects.get(user=cast.partner, key="till-1")
        assert (row.status_code, row.response) == (status, body)


@pytest.mark.django_db(transaction=True)
def test_fifty_retries_of_a_reply_at_the_same_moment_add_one_article(cast, threads_db, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 60
    ticket = services.create_ticket(
        cast.client_user, cast.acme, subject="Oven", body_text="Cold.", source=Source.CLI
    )
    url = f"/tickets/{ticket.pk}/reply"
    answers, use_db = fire(threads_db, cast.client_user, url, {"body_text": "Still cold"}, "r-1")
    status, body = assert_one_answer(answers)
    with use_db():
        replies = Article.objects.filter(ticket=ticket, body_text="Still cold")
        assert (status, [body["id"]]) == (201, list(replies.values_list("pk", flat=True)))


def test_a_retry_after_the_answer_gets_the_same_answer_and_changes_nothing(cast, api_as):
    client = api_as(cast.partner)
    first = post(client, "/tickets", ticket_payload(cast), **{KEY: "k-1"})
    assert first.status_code == 201
    assert not first.has_header("Idempotent-Replayed")
    count = Ticket.objects.count()
    again = post(client, "/tickets", ticket_payload(cast), **{KEY: "k-1"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == count


def test_the_same_body_in_another_layout_is_the_same_request(cast, api_as):
    client = api_as(cast.partner)
    payload = ticket_payload(cast)
    first = post(client, "/tickets", payload, **{KEY: "k-layout"})
    reordered = json.dumps(dict(reversed(list(payload.items()))), indent=2)
    again = client.post(
        API + "/tickets", data=reordered, content_type="application/json", headers={KEY: "k-layout"}
    )
    assert (again.status_code, again.json()) == (201, first.json())
    assert Ticket.objects.filter(subject=payload["subject"]).count() == 1


def test_a_key_used_for_another_request_is_refused_with_a_422_that_says_why(cast, desk, api_as):
    client = api_as(cast.partner)
    assert post(client, "/tickets", ticket_payload(cast), **{KEY: "k-2"}).status_code == 201
    tickets, articles = Ticket.objects.count(), Article.objects.count()
    other_body = post(client, "/tickets", ticket_payload(cast, "Another subject"), **{KEY: "k-2"})
    other_path = post(
        client, f"/tickets/{desk.acme_bob.pk}/reply", {"body_text": "Hi"}, **{KEY: "k-2"}
    )
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert "already used for another request" in response.json()["detail"]
        assert response.json()["errors"][0]["field"] == KEY
    assert (Ticket.objects.count(), Article.objects.count()) == (tickets, articles)


def test_keys_are_per_user(cast, api_as):
    first = post(api_as(cast.partner), "/tickets", ticket_payload(cast), **{KEY: "shared"})
    second = post(api_as(cast.admin), "/tickets", ticket_payload(cast), **{KEY: "shared"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_replies_notes_status_and_uploads_are_done_once(cast, desk, api_as):
    client = api_as(cast.partner)
    ticket = desk.acme_bob
    calls = [
        lambda: post(
            client, f"/tickets/{ticket.pk}/reply", {"body_text": "On my way"}, **{KEY: "r"}
        ),
        lambda: post(client, f"/tickets/{ticket.pk}/note", {"body_text": "Parts"}, **{KEY: "n"}),
        lambda: post(
            client, f"/tickets/{ticket.pk}/status", {"status": "in_progress"}, **{KEY: "s"}
        ),
        lambda: client.post(
            f"{API}/tickets/{ticket.pk}/attachments",
            {"files": [SimpleUploadedFile("a.txt", b"abc")], "body_text": "Log"},
            headers={KEY: "u"},
        ),
    ]
    for call in calls:
        first = call()
        assert first.status_code in (200, 201), first.content
        articles = Article.objects.filter(ticket=ticket).count()
        files = Attachment.objects.count()
        again = call()
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert Article.objects.filter(ticket=ticket).count() == articles
        assert Attachment.objects.count() == files


def test_a_refusal_is_the_answer_to_its_retries_too(cast, api_as):
    client = api_as(cast.client_user)
    payload = {"client": cast.globex.pk, "subject": "Not mine", "body_text": "x"}
    first = post(client, "/tickets", payload, **{KEY: "refused"})
    assert first.status_code == 400
    again = post(client, "/tickets", payload, **{KEY: "refused"})
    assert (again.status_code, again.json()) == (400, first.json())
    assert again["Idempotent-Replayed"] == "true"


def test_a_request_that_crashed_leaves_the_key_free_for_its_retry(cast, api_as, monkeypatch):
    client = api_as(cast.partner)
    real = services.create_ticket

    def crash(*args, **kwargs):
        real(*args, **kwargs)  # the work is done, then something unexpected breaks
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "create_ticket", crash)
    with pytest.raises(RuntimeError):
        post(client, "/tickets", ticket_payload(cast), **{KEY: "crash"})
    assert not IdempotentRequest.objects.filter(key="crash").exists()
    assert not Ticket.objects.filter(subject="Till printer jammed").exists()  # rolled back
    monkeypatch.setattr(services, "create_ticket", real)
    retry = post(client, "/tickets", ticket_payload(cast), **{KEY: "crash"})
    assert retry.status_code == 201
    assert Ticket.objects.filter(subject="Till printer jammed").count() == 1


def _claim_in_progress(cast, path, payload, key):
    request = RequestFactory().post(path, data=json.dumps(payload), content_type="application/json")
    return IdempotentRequest.objects.create(
        user=cast.partner, key=key, fingerprint=idempotency.fingerprint(request)
    )


def test_a_retry_while_the_first_is_still_working_waits_for_its_answer(cast, api_as, monkeypatch):
    client = api_as(cast.partner)
    payload = ticket_payload(cast)
    # The answer the first request will have stored: a ticket as the API shows one.
    first_answer = post(client, "/tickets", ticket_payload(cast, "Earlier jam")).json()
    row = _claim_in_progress(cast, API + "/tickets", payload, "slow")
    naps = []

    def first_request_finishes(seconds):
        naps.append(seconds)
        if len(naps) == 3:
            IdempotentRequest.objects.filter(pk=row.pk).update(
                status_code=201, response=first_answer
            )

    monkeypatch.setattr(idempotency.time, "sleep", first_request_finishes)
    response = post(client, "/tickets", payload, **{KEY: "slow"})
    assert (response.status_code, response.json()) == (201, first_answer)
    assert len(naps) == 3
    assert not Ticket.objects.filter(subject=payload["subject"]).exists()


def test_a_retry_that_waited_too_long_is_told_to_come_back(cast, api_as, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.2
    payload = ticket_payload(cast)
    _claim_in_progress(cast, API + "/tickets", payload, "stuck")
    response = post(api_as(cast.partner), "/tickets", payload, **{KEY: "stuck"})
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert "still in progress" in response.json()["detail"]
    assert not Ticket.objects.filter(subject=payload["subject"]).exists()


def test_an_abandoned_claim_is_taken_over_after_ten_minutes(cast, api_as):
    payload = ticket_payload(cast)
    row = _claim_in_progress(cast, API + "/tickets", payload, "abandoned")
    long_ago = timezone.now() - dt.timedelta(minutes=11)
    IdempotentRequest.objects.filter(pk=row.pk).update(created_at=long_ago)
    response = post(api_as(cast.partner), "/tickets", payload, **{KEY: "abandoned"})
    assert response.status_code == 201
    assert Ticket.objects.filter(subject=payload["subject"]).count() == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "clé"])
def test_a_malformed_key_is_a_400_naming_the_header(cast, api_as, key):
    response = post(api_as(cast.partner), "/tickets", ticket_payload(cast), **{KEY: key})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == KEY
    assert not Ticket.objects.exists()


def test_old_answers_and_abandoned_claims_are_forgotten(cast, api_as):
    client = api_as(cast.partner)
    post(client, "/tickets", ticket_payload(cast, "Old"), **{KEY: "old"})
    post(client, "/tickets", ticket_payload(cast, "Recent"), **{KEY: "recent"})
    _claim_in_progress(cast, API + "/tickets", ticket_payload(cast), "abandoned")
    _claim_in_progress(cast, API + "/tickets", ticket_payload(cast), "working")
    now = timezone.now()
    for key, age in (("old", dt.timedelta(hours=25)), ("abandoned", dt.timedelta(minutes=11))):
        IdempotentRequest.objects.filter(key=key).update(created_at=now - age)
    assert idempotency.forget_old_answers() == 2
    assert set(IdempotentRequest.objects.values_list("key", flat=True)) == {"recent", "working"}
