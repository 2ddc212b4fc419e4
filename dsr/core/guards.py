"""Triggers no session can switch off (ADR 0039).

django-pgtrigger's triggers first ask `_pgtrigger_should_ignore`, which reads a session
setting (its list of triggers to ignore): any session may set it, the application's
owner-less role too (PostgreSQL lets every role set a dotted, unregistered setting). For a
trigger that refuses an operation the role is not granted anyway (a delete, a truncate)
that is moot. For a trigger that guards an operation the role is granted (an update that
must not wind an audit chain's head back, a row's place held to its person's), it is a
switch in the attacker's hand: found by an attack on step 5, which wound a chain's head
back as the app's role and broke every later write to that chain. A `Guard` is compiled
without that check.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from pgtrigger import compiler


class GuardTriggerSql(compiler.UpsertTriggerSql):
    """django-pgtrigger's installation SQL, without the function that reads its ignore
    list and without the call to it. Referenced by migrations: change it
    only in ways that leave the SQL of existing migrations as it was."""

    def get_template(self) -> str:
        return """
            CREATE OR REPLACE FUNCTION {pgid}()
            RETURNS TRIGGER AS $$
                {declare}
                BEGIN
                    {func}
                END;
            $$ LANGUAGE plpgsql;

            DROP TRIGGER IF EXISTS {pgid} ON {table};
            CREATE {constraint} TRIGGER {pgid}
                {when} {operation} ON {table}
                {timing}
                {referencing}
                FOR EACH {level} {condition}
                EXECUTE PROCEDURE {execute};

            COMMENT ON TRIGGER {pgid} ON {table} IS '{hash}';
        """


class Guard(pgtrigger.Trigger):
    """A trigger that holds whatever the session has set."""

    def compile(self, model: Any) -> compiler.Trigger:
        compiled = super().compile(model)
        kwargs = {k: v for k, v in compiled.sql.kwargs.items() if k != "ignore_func_name"}
        return compiler.Trigger(name=self.name, sql=GuardTriggerSql(**kwargs))
