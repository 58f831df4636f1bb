from __future__ import annotations

import re
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import connection, transaction

from audit.app_settings import min_retention
from tater.commands import TaterCommand

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grants(*, database: str, schema: str, role: str, min_retention_days: int) -> list[str]:
    """The runtime role's privileges: rows of every table, but only SELECT and INSERT on the
    audit log, no TRUNCATE anywhere, EXECUTE on the purge function; it owns nothing."""
    s, r = ident(schema), ident(role)
    return [
        f"GRANT CONNECT ON DATABASE {ident(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        # Also takes back what a broader grant (GRANT ALL) may have given before.
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE UPDATE, DELETE ON {s}.audit_auditevent FROM {r}",
        f"REVOKE DELETE ON {s}.audit_auditchainhead FROM {r}",
        # A forged row here would make the owner's next migrate skip a migration.
        f"REVOKE INSERT, UPDATE, DELETE ON {s}.django_migrations FROM {r}",
        # Tables that later migrations (run by this owner) create get the same row privileges.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        f"REVOKE ALL ON FUNCTION {s}.tater_audit_purge(bigint, bigint) FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION {s}.tater_audit_purge(bigint, bigint) TO {r}",
        f"CREATE OR REPLACE FUNCTION {s}.tater_audit_min_retention() RETURNS interval LANGUAGE sql STABLE "
        f"AS $$ SELECT make_interval(days => {int(min_retention_days)}) $$",
    ]


class Command(TaterCommand):
    help = (
        "PostgreSQL: print (or with --apply, run as the owner of the tables) the privileges of the "
        "runtime role the application should connect as: no UPDATE, DELETE or TRUNCATE on the audit "
        "log, only the audited purge function. Run again after every migrate."
    )

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--runtime-role", required=True, help="The role the application connects as")
        parser.add_argument("--apply", action="store_true", help="Run the statements (connected as the owner)")

    def run(self, **options: Any) -> dict[str, Any]:
        if connection.vendor != "postgresql":
            raise CommandError("setup_db_roles is for PostgreSQL (DATABASE_URL); SQLite has no roles")
        role = options["runtime_role"]
        if not ROLE_NAME.match(role):
            raise CommandError("--runtime-role must be a plain lower-case role name (letters, digits, _)")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_database(), current_schema(), c.relowner::regrole::text, "
                "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
                "OR pg_has_role(current_user, c.relowner, 'USAGE') "
                "FROM pg_class c WHERE c.oid = 'audit_auditevent'::regclass"
            )
            database, schema, owner, may_grant = cursor.fetchone()
            cursor.execute(
                "SELECT rolsuper, rolcreaterole, pg_has_role(oid, %s::regrole, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                [owner, role],
            )
            found = cursor.fetchone()
        if found is not None:
            superuser, createrole, owner_member = found
            if superuser or createrole or owner_member:
                raise CommandError(
                    f"Role {role} is a superuser, may create roles, or is (a member of) the table owner {owner}: "
                    "it could lift the audit log's protection. Use a plain login role."
                )
        elif options["apply"]:
            raise CommandError(f"Role {role} does not exist: CREATE ROLE {role} LOGIN PASSWORD '…' first")
        statements = grants(database=database, schema=schema, role=role, min_retention_days=min_retention().days)
        if options["apply"]:
            if not may_grant:
                raise CommandError(f"Run --apply connected as the owner of the tables ({owner})")
            with transaction.atomic(), connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
            self.say(f"Applied the privileges of runtime role {role} ({len(statements)} statements).")
        else:
            self.say(f"-- Run as {owner}, the owner of the tables; then connect the application as {role}.")
            for sql in statements:
                self.say(sql + ";")
        return {"runtime_role": role, "owner": owner, "applied": options["apply"], "statements": statements}
