"""On PostgreSQL, the ledger's balance is checked once per ledger transaction a statement
touched, not once per leg: statement-level triggers read the legs inserted, updated or deleted
(transition tables) and sum each of their transactions once.  The row trigger of 0002 summed a
transaction's legs once for every leg (six legs, six sums), which at the month-end was most of
the server's time.  Each statement must leave every transaction it touched balanced, so a
transaction's legs are inserted in one statement (``billing.ledger`` does)."""

from django.db import migrations

CREATE = """
DROP TRIGGER IF EXISTS billing_leg_balance ON billing_leg;
DROP FUNCTION IF EXISTS billing_check_balance();
CREATE FUNCTION billing_check_balances() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    SELECT leg.transaction_id AS tx, SUM(leg.amount) AS total INTO bad
        FROM billing_leg leg
        WHERE leg.transaction_id IN (SELECT DISTINCT transaction_id FROM touched)
        GROUP BY leg.transaction_id
        HAVING SUM(leg.amount) <> 0
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: its legs sum to %',
            bad.tx, bad.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_leg_balance_insert AFTER INSERT ON billing_leg
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_check_balances();
CREATE TRIGGER billing_leg_balance_delete AFTER DELETE ON billing_leg
    REFERENCING OLD TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_check_balances();
CREATE TRIGGER billing_leg_balance_update_from AFTER UPDATE ON billing_leg
    REFERENCING OLD TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_check_balances();
CREATE TRIGGER billing_leg_balance_update_to AFTER UPDATE ON billing_leg
    REFERENCING NEW TABLE AS touched
    FOR EACH STATEMENT EXECUTE FUNCTION billing_check_balances();
"""

# Back to 0002's row trigger.
DROP = """
DROP TRIGGER IF EXISTS billing_leg_balance_insert ON billing_leg;
DROP TRIGGER IF EXISTS billing_leg_balance_delete ON billing_leg;
DROP TRIGGER IF EXISTS billing_leg_balance_update_from ON billing_leg;
DROP TRIGGER IF EXISTS billing_leg_balance_update_to ON billing_leg;
DROP FUNCTION IF EXISTS billing_check_balances();
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


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0017_datev_debtor_accounts")]
    operations = [migrations.RunPython(create, drop)]
