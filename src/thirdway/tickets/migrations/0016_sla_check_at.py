"""The clock sweep reads only the tickets whose ``sla_check_at`` has come.

Every existing ticket gets the column at 2000-01-01 (due at once), so the first sweep after
the upgrade reads every open ticket under a policy, as every sweep did before, and stores
when each must be read next.  Tickets that are not open or have no policy never are: the
column is emptied for them, which keeps them out of the partial index.
"""

import datetime

from django.db import migrations, models

OPEN = ["assigned", "in_progress", "new", "scheduled", "waiting_client", "waiting_third_party"]


def forget_unswept(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Ticket.objects.exclude(status__in=OPEN, sla_policy__isnull=False).update(sla_check_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
        ("tickets", "0015_stored_search_vectors"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="sla_check_at",
            field=models.DateTimeField(
                blank=True,
                default=datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                null=True,
            ),
        ),
        migrations.RunPython(forget_unswept, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("sla_check_at__isnull", False)),
                fields=["sla_check_at"],
                name="ticket_by_sla_check",
            ),
        ),
    ]
