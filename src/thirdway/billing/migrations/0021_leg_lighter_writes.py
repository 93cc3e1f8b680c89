"""Lighter writes of the ledger's legs (each of the month-end's million legs paid for them).

- The leg's own index on its account goes: ``billing_leg_by_account`` (account, transaction)
  serves every lookup by account.
- On PostgreSQL a leg's two foreign keys (its account, its transaction) are checked once per
  statement, for the distinct rows a statement touched, by triggers reading its transition
  tables, as the balance is (0018); the foreign-key constraints checked them once per leg at
  commit, 60% of a leg's cost.  The triggers lock the rows they find ``FOR KEY SHARE`` as a
  foreign key does, so an account or transaction cannot go while a leg on it is being written,
  and deleting (or renumbering) an account or transaction that legs still name is refused.  The
  model still declares both foreign keys, which SQLite keeps as constraints; a later migration
  that alters either field on PostgreSQL would make its constraint again (correct, slower).
"""

import django.db.models.deletion
from django.db import migrations, models

CREATE = """
CREATE FUNCTION billing_leg_check_references() RETURNS trigger AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    SELECT count(DISTINCT account_id) INTO wanted FROM touched;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM billing_account
        WHERE id IN (SELECT DISTINCT account_id FROM touched) FOR KEY SHARE) AS locked;
    IF found <> wanted THEN
        RAISE EXCEPTION 'a ledger leg names an account that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT count(DISTINCT transaction_id) INTO wanted FROM touched;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM billing_ledgertransaction
        WHERE id IN (SELECT DISTINCT transaction_id FROM touched) FOR KEY SHARE) AS locked;
    IF found <> wanted THEN
        RAISE EXCEPTION 'a ledger leg names a ledger transaction that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_leg_references_insert AFTER INSERT ON billing_leg
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_check_references();
CREATE TRIGGER billing_leg_references_update AFTER UPDATE ON billing_leg
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_check_references();

CREATE FUNCTION billing_leg_referenced_kept() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'billing_account' THEN
        PERFORM 1 FROM gone WHERE NOT EXISTS (SELECT 1 FROM billing_account a WHERE a.id = gone.id)
            AND EXISTS (SELECT 1 FROM billing_leg leg WHERE leg.account_id = gone.id) LIMIT 1;
    ELSE
        PERFORM 1 FROM gone
            WHERE NOT EXISTS (SELECT 1 FROM billing_ledgertransaction t WHERE t.id = gone.id)
            AND EXISTS (SELECT 1 FROM billing_leg leg WHERE leg.transaction_id = gone.id) LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger legs still name a row of %', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_account_legs_kept_delete AFTER DELETE ON billing_account
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_referenced_kept();
CREATE TRIGGER billing_account_legs_kept_update AFTER UPDATE ON billing_account
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_referenced_kept();
CREATE TRIGGER billing_transaction_legs_kept_delete AFTER DELETE ON billing_ledgertransaction
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_referenced_kept();
CREATE TRIGGER billing_transaction_legs_kept_update AFTER UPDATE ON billing_ledgertransaction
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION billing_leg_referenced_kept();
"""

DROP = """
DROP TRIGGER IF EXISTS billing_leg_references_insert ON billing_leg;
DROP TRIGGER IF EXISTS billing_leg_references_update ON billing_leg;
DROP TRIGGER IF EXISTS billing_account_legs_kept_delete ON billing_account;
DROP TRIGGER IF EXISTS billing_account_legs_kept_update ON billing_account;
DROP TRIGGER IF EXISTS billing_transaction_legs_kept_delete ON billing_ledgertransaction;
DROP TRIGGER IF EXISTS billing_transaction_legs_kept_update ON billing_ledgertransaction;
DROP FUNCTION IF EXISTS billing_leg_check_references();
DROP FUNCTION IF EXISTS billing_leg_referenced_kept();
"""

FOREIGN_KEYS = (("account_id", "billing_account"), ("transaction_id", "billing_ledgertransaction"))


def _foreign_keys(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, "billing_leg")
    return [
        name
        for name, about in found.items()
        if about["foreign_key"] and tuple(about["columns"]) in {(c,) for c, _ in FOREIGN_KEYS}
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _foreign_keys(schema_editor):
        schema_editor.execute(
            f"ALTER TABLE billing_leg DROP CONSTRAINT {schema_editor.quote_name(name)}"
        )
    schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP, params=None)
    for column, table in FOREIGN_KEYS:
        schema_editor.execute(
            f"ALTER TABLE billing_leg ADD CONSTRAINT billing_leg_{column}_fk FOREIGN KEY "
            f"({column}) REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0020_buy_out_standing_order"),
    ]

    operations = [
        migrations.AlterField(
            model_name="leg",
            name="account",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="legs",
                to="billing.account",
            ),
        ),
        migrations.RunPython(create, drop),
    ]
