"""The outbox waits longer after each failed attempt, and an operator acknowledges what it
gave up (ADR 0038). Messages already waiting are due at once. `next_attempt_at` has a
database default, so that a server still on the code before it (a rolling deploy) queues
mail without naming it."""

import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0015_audit_details_read_safely"),
    ]

    operations = [
        migrations.AddField(
            model_name="outgoingemail",
            name="acknowledged_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="outgoingemail",
            name="next_attempt_at",
            field=models.DateTimeField(
                db_default=django.db.models.functions.datetime.Now(),
                default=django.utils.timezone.now,
            ),
        ),
    ]
