"""verify_audit: the audit chains' check. Here rather than in audit, which sits below orgs:
it names tenants by their public id, which only orgs can resolve."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit import chain
from audit.models import AuditChainHead, AuditEvent
from orgs.models import Tenant
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Verify the audit log's hash chain of a tenant (or the global chain, or all chains): "
        "reports the first edited, missing or reordered entry and exits 1; exits 0 when intact."
    )

    def add_command_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--tenant", help="Tenant id (public id)")
        which.add_argument("--global", dest="global_chain", action="store_true", help="Entries with no tenant")
        which.add_argument("--all", action="store_true", help="Every chain")

    def handle(self, *args: Any, **options: Any) -> None:
        # Not TaterCommand.handle: a broken chain still prints its full report, then exits 1.
        self._json = options["json"]
        sealed = chain.deployment(chain.audit_keys())
        reports = [
            chain.verify(tenant_pk, tenant_public_id=public_id, sealed=sealed)
            for tenant_pk, public_id in self._chains(options)
        ]
        broken = [r for r in reports if not r.intact]
        if self._json:
            self.stdout.write(json.dumps({"intact": not broken, "chains": [r.as_dict() for r in reports]}))
        else:
            for report in reports:
                self.stdout.write(self._describe(report))
        if broken:
            first = broken[0]
            raise CommandError(f"Audit chain {first.chain} is broken: {first.problem.message}", returncode=1)  # type: ignore[union-attr]

    def _chains(self, options: dict[str, Any]) -> list[tuple[int | None, str | None]]:
        if options["tenant"]:
            tenant = Tenant.objects.filter(public_id=options["tenant"]).first()
            if tenant is None:
                self._fail(f"No tenant with id {options['tenant']!r}", "NOT_FOUND")
            return [(tenant.pk, tenant.public_id)]  # type: ignore[union-attr]
        if options["global_chain"]:
            return [(None, None)]
        # Every chain there is evidence of: the global one, every tenant's, every head row's and
        # every entry's. Not the head rows alone: deleting one must not take its chain out of
        # the check (a chain with entries and no head is reported broken).
        public_ids = dict(Tenant.objects.values_list("pk", "public_id"))
        tenants = {
            *public_ids,
            *AuditChainHead.objects.values_list("tenant_id", flat=True),
            *AuditEvent.objects.order_by().values_list("tenant_id", flat=True).distinct(),
        } - {None}
        return [(None, None), *((pk, public_ids.get(pk)) for pk in sorted(tenants))]

    @staticmethod
    def _describe(report: chain.ChainReport) -> str:
        name = f"tenant {report.tenant_id}" if report.tenant_id else report.chain
        if report.problem is not None:
            where = f" at seq {report.problem.seq} ({report.problem.entry_id})" if report.problem.seq else ""
            return f"Chain {name}: BROKEN ({report.problem.kind}){where}: {report.problem.message}"
        if not report.entries:
            return f"Chain {name}: intact, no entries"
        return (
            f"Chain {name}: intact, {report.entries} entries, seq {report.first_seq}..{report.last_seq}, "
            f"head {report.head_hash}"
        )
