"""Results batches answered at the same moment in one process are stored together (one
transaction, on PostgreSQL one statement): each batch gets its own answer, a batch sent again
(before, or twice within the group) stores nothing twice, a result for a check that is not the
agent's is refused by index, and a batch that cannot be stored fails alone while the rest of
its group is stored."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from thirdway.audit.models import Source
from thirdway.monitoring import ingest_store, ingest_writer, services
from thirdway.monitoring.models import AgentBatch, CheckResult

from .test_agent_api import disk_check, enrol

pytestmark = pytest.mark.django_db(transaction=True)


def _job(agent, batch_id, results, refused=()):
    now = timezone.now()
    kept = [
        {
            "check_id": check,
            "collected_at": now - dt.timedelta(seconds=n),
            "value": 1.0 * n,
            "index": index,
        }
        for n, (index, check) in enumerate(results)
    ]
    kept.sort(key=lambda item: item["collected_at"])
    return ingest_writer.Job(agent.pk, batch_id, kept, list(refused), now)


@pytest.fixture
def two_agents(cast):
    first, _ = enrol(cast, hostname="srv-one")
    second, _ = enrol(cast, hostname="srv-two")
    return first, disk_check(cast, first), second, disk_check(cast, second)


def test_a_group_stores_each_batch_once_with_its_own_answer(cast, two_agents):
    first, first_check, second, second_check = two_agents
    paused = disk_check(cast, first, name="Paused disk", metric="disk:/srv")
    services.update_check(cast.admin, paused, {"is_paused": True}, source=Source.CLI)
    ingest_writer.write([_job(first, "sent-before", [(0, first_check.pk)])])
    future = {"index": 1, "check_id": first_check.pk, "problem": ingest_store.IN_FUTURE}
    jobs = [
        # index 0 is the agent's, 2 another agent's check, 3 a paused one; 1 was refused earlier
        _job(first, "a", [(0, first_check.pk), (2, second_check.pk), (3, paused.pk)], [future]),
        _job(second, "b", [(0, second_check.pk), (1, second_check.pk)]),
        _job(second, "b", [(0, second_check.pk), (1, second_check.pk)]),  # twice in the group
        _job(first, "sent-before", [(0, first_check.pk)]),
    ]

    ingest_writer.write(jobs)

    answers = [job.answer for job in jobs]
    assert [duplicate for _, duplicate in answers] == [False, False, True, True]
    a, b, b_again, before = (batch for batch, _ in answers)
    assert a.accepted == 1
    assert [(item["index"], item["problem"]) for item in a.refused] == [
        (1, ingest_store.IN_FUTURE),
        (2, ingest_writer.NOT_OWNED),
        (3, ingest_writer.NOT_OWNED),
    ]
    assert b.accepted == 2 and b.refused == [] and b_again.pk == b.pk
    assert before.accepted == 1
    stored = AgentBatch.objects.get(agent=first, batch_id="a")
    assert (stored.pk, stored.accepted, stored.refused) == (a.pk, 1, a.refused)
    assert AgentBatch.objects.count() == 3
    assert CheckResult.objects.filter(check_obj=first_check, pending=True).count() == 2
    assert CheckResult.objects.filter(check_obj=second_check, pending=True).count() == 2
    assert not CheckResult.objects.filter(check_obj=paused).exists()


def test_a_batch_that_cannot_be_stored_fails_alone(cast, two_agents):
    first, first_check, second, _ = two_agents
    good = [_job(first, f"good-{n}", [(0, first_check.pk)]) for n in range(3)]
    # No agent has this id: the batch row breaks its foreign key and so the group's write.
    broken = ingest_writer.Job(second.pk + 1000, "broken", [], [], timezone.now())
    jobs = [good[0], broken, good[1], good[2]]

    ingest_writer.writer._write_group(jobs)

    assert broken.error is not None and broken.answer is None
    assert all(job.error is None and job.answer[1] is False for job in good)
    assert set(AgentBatch.objects.values_list("batch_id", flat=True)) == {
        "good-0",
        "good-1",
        "good-2",
    }
    assert all(job.done.is_set() for job in jobs)


def test_batches_sent_at_once_from_threads_are_all_stored_once(cast, two_agents, monkeypatch):
    first, first_check, second, second_check = two_agents
    monkeypatch.setattr(ingest_writer.Writer, "enabled", True)
    writer = ingest_writer.Writer()
    answers, errors = {}, []
    start = threading.Barrier(12)

    def send(n: int) -> None:
        agent, check = (first, first_check) if n % 2 else (second, second_check)
        start.wait()
        try:
            # each batch twice: a retry after a lost answer must store nothing more
            for _ in range(2):
                answers.setdefault(n, []).append(
                    writer.store(_job(agent, f"t-{n}", [(0, check.pk), (1, check.pk)]))
                )
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    writer.stop()

    assert errors == []
    assert all([d for _, d in answers[n]] == [False, True] for n in range(12))
    assert all(answers[n][0][0].accepted == 2 for n in range(12))
    assert AgentBatch.objects.count() == 12
    assert CheckResult.objects.filter(pending=True).count() == 24
