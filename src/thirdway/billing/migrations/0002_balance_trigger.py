"""On PostgreSQL, a deferred constraint trigger holds every ledger transaction to a zero sum
when its database transaction commits (SQLite relies on the check in ``billing.ledger``)."""

from django.db import migrations

CREATE = """
CREATE FUNCTION billing_check_balance() RETURNS trigger AS $$
DECLARE
    total numeric;
    tx bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN tx := OLD.transaction_id; ELSE tx := NEW.transaction_id; END IF;
    SELECT COALESCE(SUM(amount), 0) INTO total FROM billing_leg WHERE transaction_id = tx;
    IF total <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its legs sum to %',
            tx, total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER billing_leg_balance
    AFTER INSERT OR UPDATE OR DELETE ON billing_leg
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing_check_balance();
"""
DROP = """
DROP TRIGGER IF EXISTS billing_leg_balance ON billing_leg;
DROP FUNCTION IF EXISTS billing_check_balance();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
