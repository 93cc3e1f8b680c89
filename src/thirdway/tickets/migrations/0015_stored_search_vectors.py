"""PostgreSQL: store the search vectors in generated columns, indexed without a pending list.

The expression indexes of 0003 made every plan depend on the index's state: while recent
inserts waited in the GIN pending list (``fastupdate``) the planner chose a sequential scan
that ran ``to_tsvector`` on every row, and a bitmap scan over many matches ran it again on
each row it rechecked.  The vectors are now computed once, when a row is written, in two
generated columns (``search_vector``, ``search_all_vector``; the models do not list them, so
the ORM never writes them), and their GIN indexes take each insert straight into the tree
(``fastupdate = off``): a search reads an index that is always whole, and a recheck reads a
stored vector.  The table is analysed at the end, so the new columns have statistics at once.  Adding the columns rewrites the table once, under a lock, so run it in a
quiet hour on a large desk.  SQLite keeps its FTS5 table: nothing changes there.
"""

from django.db import migrations

DOCUMENT = "to_tsvector('simple', translate(search_text, '<>', '  '))"
DOCUMENT_WITH_NOTES = "to_tsvector('simple', translate(search_text || ' ' || note_text, '<>', '  '))"

FORWARDS = [
    "DROP INDEX IF EXISTS tickets_ticket_search_plain_gin",
    "DROP INDEX IF EXISTS tickets_ticket_search_all_plain_gin",
    "ALTER TABLE tickets_ticket "
    f"ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED, "
    f"ADD COLUMN search_all_vector tsvector GENERATED ALWAYS AS ({DOCUMENT_WITH_NOTES}) STORED",
    "CREATE INDEX tickets_ticket_search_vector_gin ON tickets_ticket "
    "USING gin (search_vector) WITH (fastupdate = off)",
    "CREATE INDEX tickets_ticket_search_all_vector_gin ON tickets_ticket "
    "USING gin (search_all_vector) WITH (fastupdate = off)",
    # New columns have no statistics until the next ANALYZE, and without them the planner
    # guesses how many tickets a word matches; take them now rather than at autovacuum's pace.
    "ANALYZE tickets_ticket",
]
BACKWARDS = [
    "DROP INDEX IF EXISTS tickets_ticket_search_vector_gin",
    "DROP INDEX IF EXISTS tickets_ticket_search_all_vector_gin",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector, "
    "DROP COLUMN IF EXISTS search_all_vector",
    f"CREATE INDEX IF NOT EXISTS tickets_ticket_search_plain_gin ON tickets_ticket USING gin ({DOCUMENT})",
    "CREATE INDEX IF NOT EXISTS tickets_ticket_search_all_plain_gin ON tickets_ticket "
    f"USING gin ({DOCUMENT_WITH_NOTES})",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARDS:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARDS:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0014_practice_dispatch_weights")]
    operations = [migrations.RunPython(forwards, backwards)]
