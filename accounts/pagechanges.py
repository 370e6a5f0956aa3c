"""Which users' pages a change of data made stale: a log written by PostgreSQL's triggers.

The pages kept rendered (`core.pagecache`: the manager's overview, the firm's queue) are keyed
by their user's *page version*: the sum of the weights logged here for him and for everyone
(user 0), read with his roles in the one query of every request (`accounts.roles`). Every
committed change of a table a kept page shows adds to the sum, so a page rendered before the
change is never served after it. The version is read before anything the page shows (READ
COMMITTED: each later query sees at least what it saw), so what is kept under a version is
never older than the version.

- **Triggers, not signals**: bulk updates, raw SQL, the jobs and the admin are all seen. They
  run per statement with its changed rows as a table (`REFERENCING ... TABLE`), so a job that
  writes 100,000 rows writes one INSERT here, not 100,000.
- **Append-only**: writers never wait for each other. One counter row per user would be locked
  by every transaction touching his data until it commits, and two transactions could
  deadlock on two users' rows. Only committed rows count, in any order, so the sum still only
  grows. `compact()` (every few minutes, `accounts.compact_page_changes`) folds each user's rows
  into one with the same sum.
- **What each table touches** is in `PAGE_SOURCES` (the migrations install them) and a test
  checks that every table a kept page reads has its triggers
  (tests/core/test_pagecache.py).
"""

from __future__ import annotations

from django.db import connection, migrations

TABLE = "accounts_pagechange"
EVERYONE = 0

# The users whose pages show a changed row `r`, as SELECTs of one column over `{rows}` r.
THE_USER = "SELECT r.user_id FROM {rows} r"
THE_MANAGER = "SELECT p.user_id FROM {rows} r JOIN accounts_managerprofile p ON p.id = r.manager_id"
THE_FIRMS_REVIEWERS = (
    "SELECT m.user_id FROM {rows} r JOIN accounts_firmmembership m ON m.firm_id = r.firm_id"
)
# A manager's name or number, in the queues of every firm that has employed him.
THE_EMPLOYERS_REVIEWERS = (
    "SELECT m.user_id FROM {rows} r JOIN accounts_employment e ON e.manager_id = r.id"
    " JOIN accounts_firmmembership m ON m.firm_id = e.firm_id"
)
EVERYONE_IF_ANY = f"SELECT {EVERYONE} FROM {{rows}} r LIMIT 1"

#: Each table a kept page shows, with whose pages its rows are on.
PAGE_SOURCES: dict[str, tuple[str, ...]] = {
    "accounts_managerprofile": (THE_USER, THE_EMPLOYERS_REVIEWERS),
    "accounts_employment": (THE_MANAGER, THE_FIRMS_REVIEWERS),
    "accounts_firmmembership": (THE_USER,),
    "accounts_firm": (EVERYONE_IF_ANY,),
    "accounts_jurisdiction": (EVERYONE_IF_ANY,),
    "registry_annualfiling": (THE_MANAGER, THE_FIRMS_REVIEWERS),
    "registry_filingextension": (THE_MANAGER,),
    "registry_filingwindow": (EVERYONE_IF_ANY,),
    "registry_registrystatus": (THE_MANAGER,),
    "registry_conductrecord": (THE_MANAGER,),
    "training_hoursrule": (EVERYONE_IF_ANY,),
    "training_studyrecord": (THE_MANAGER,),
}


def _function(table: str) -> str:
    return f"{table}_pages_changed"


def triggers_sql(table: str) -> str:
    """The function and the three statement triggers that log `table`'s changes."""
    sources = PAGE_SOURCES[table]

    def log(rows: str) -> str:
        union = " UNION ALL ".join(source.format(rows=rows) for source in sources)
        return (
            f"INSERT INTO {TABLE} (user_id) SELECT DISTINCT u FROM ({union}) s(u)"
            " WHERE u IS NOT NULL;"
        )

    both = "(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)"
    function = _function(table)
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {log("new_rows")}
    ELSIF TG_OP = 'UPDATE' THEN {log(both)}
    ELSE {log("old_rows")}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_pages_ins AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_pages_upd AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_pages_del AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def drop_triggers_sql(table: str) -> str:
    return (
        "".join(
            f"DROP TRIGGER IF EXISTS {table}_pages_{op} ON {table};" for op in ("ins", "upd", "del")
        )
        + f"DROP FUNCTION IF EXISTS {_function(table)}();"
    )


def install(tables: list[str]):
    """The migration operation that installs the triggers of `tables` (and drops them back)."""
    return migrations.RunSQL(
        "".join(triggers_sql(table) for table in tables),
        "".join(drop_triggers_sql(table) for table in tables),
    )


def version_sql(user_column: str) -> str:
    """The page version of the user whose id is `user_column`: read from the index alone."""
    return (
        f"(SELECT COALESCE(SUM(c.weight), 0) FROM {TABLE} c"
        f" WHERE c.user_id IN ({EVERYONE}, {user_column}))"
    )


def tables_with_triggers() -> set[str]:
    """The tables whose changes are logged here (from the database, not from this module)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname LIKE %s AND NOT t.tgisinternal",
            ["%\\_pages\\_%"],
        )
        return {name for (name,) in cursor.fetchall()}


def compact() -> int:
    """Fold each user's logged rows into one with the same weight; how many rows went. Safe
    beside writers (their uncommitted rows are not seen, and stay) and beside another
    `compact` (a row already folded is skipped by the other's DELETE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH folded AS (
                DELETE FROM {TABLE} WHERE user_id IN (
                    SELECT user_id FROM {TABLE} GROUP BY user_id HAVING count(*) > 1
                ) RETURNING user_id, weight
            ), kept AS (
                INSERT INTO {TABLE} (user_id, weight)
                SELECT user_id, SUM(weight) FROM folded GROUP BY user_id RETURNING 1
            )
            SELECT (SELECT count(*) FROM folded) - (SELECT count(*) FROM kept)
            """
        )
        return cursor.fetchone()[0]
