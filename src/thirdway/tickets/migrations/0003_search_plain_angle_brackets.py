"""PostgreSQL: index the search texts with angle brackets read as spaces.

The default parser takes ``<word>`` for an HTML tag and drops it (and everything inside
``<script>``/``<style>``), so "Error <timeout>" was not found by "timeout" on PostgreSQL while
SQLite found it.  Migration 0015 stores the same expressions in generated columns instead.
"""

from django.db import migrations

NEW = [
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_plain_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', translate(search_text, '<>', '  ')))",
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_all_plain_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', translate(search_text || ' ' || note_text, '<>', '  ')))",
]
OLD = [
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', search_text))",
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_all_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', search_text || ' ' || note_text))",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_gin")
    schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_all_gin")
    for statement in NEW:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_plain_gin")
    schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_all_plain_gin")
    for statement in OLD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_full_text_search")]
    operations = [migrations.RunPython(forwards, backwards)]
