"""Full-text search structures: an FTS5 table on SQLite, GIN expression indexes on PostgreSQL."""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS tickets_ticket_fts "
    "USING fts5(search_text, note_text, tokenize = 'unicode61 remove_diacritics 2')"
)
POSTGRES_CREATE = [
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', search_text))",
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_all_gin ON tickets_ticket "
    "USING gin (to_tsvector('simple', search_text || ' ' || note_text))",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
    elif vendor == "postgresql":
        for statement in POSTGRES_CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS tickets_ticket_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_gin")
        schema_editor.execute("DROP INDEX IF EXISTS tickets_ticket_search_all_gin")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
