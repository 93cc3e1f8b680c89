"""An after-hours line keeps the minutes outside business hours of each entry it bills: its
delivery share weighs the partners by them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0021_leg_lighter_writes"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoiceline",
            name="after_hours_minutes",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
