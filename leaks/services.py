"""Revoking keys by their value, when a secret scanner finds them in public (SPEC §14)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from apikeys import keygen
from apikeys.models import ApiKey, RetiredSecret
from apikeys.services import apikey_revoke
from audit import registry as A
from audit.models import AuditEvent
from orgs.models import Invitation, OrgMembership, TenantMembership
from orgs.roles import TenantRole
from scim.models import ScimToken
from scim.services.tokens import scim_token_revoke
from tater import context
from tater.mail import send_about_tenant
from tater.names import one_line

logger = logging.getLogger("leaks")

# Longer values are no Tater key (a key is a short prefix and 32 hex digits).
MAX_TOKEN_LENGTH = 256
MAX_URL_LENGTH = 2048
MAX_SOURCE_LENGTH = 64
_LOOKUP_CHUNK = 500  # digests per query (SQLite caps the parameters of one statement)
# The keys made with a leaked key that its mail lists: this many at most, followed through
# this many generations (a key made with a key made with it).
MAX_KEYS_MADE_LISTED = 50
MAX_GENERATIONS = 5


@dataclass(frozen=True)
class LeakReport:
    """One secret found in public: its value, the URL and kind of place it was found in."""

    token: str
    url: str = ""
    source: str = ""


def _digest(token: str) -> str | None:
    return keygen.digest_of(token) if 0 < len(token) <= MAX_TOKEN_LENGTH else None


def _keys_by_digest(digests: set[str]) -> dict[str, int]:
    """The key (pk) whose current, previous or an older secret has each digest."""
    found: dict[str, int] = {}
    ordered = sorted(digests)
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        chunk = ordered[start : start + _LOOKUP_CHUNK]
        rows = ApiKey.objects.filter(Q(digest__in=chunk) | Q(previous_digest__in=chunk)).values_list(
            "pk", "digest", "previous_digest"
        )
        for pk, digest, previous in rows:
            for value in (digest, previous):
                if value in digests:
                    found[value] = pk
        # Secrets retired by earlier rotations: still the key's (its owner is told, at least).
        older = RetiredSecret.objects.filter(digest__in=chunk).values_list("digest", "api_key_id")
        for digest, pk in older:
            found.setdefault(digest, pk)
    return found


def _scim_tokens_by_digest(digests: set[str]) -> dict[str, int]:
    """The SCIM token (pk) whose secret has each digest."""
    found: dict[str, int] = {}
    ordered = sorted(digests)
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        rows = ScimToken.objects.filter(digest__in=ordered[start : start + _LOOKUP_CHUNK]).values_list("digest", "pk")
        found.update(rows)
    return found


def leaked_keys_revoke(*, reports: Sequence[LeakReport], found_by: str) -> list[bool]:
    """For each report, whether its token is a secret Tater issued (a true positive).

    SCIM tokens (``scim_``, SPEC §13) are Tater keys too, and the scanners flag them: a
    live one is revoked the same way (audit ``scim_token.revoked``, reason ``leaked``) and
    the tenant's owners are emailed.

    A key whose current secret, or whose previous secret still inside its rotation grace
    period, is among the tokens is revoked at once by the system (audit
    ``api_key.revoked``, channel ``system``, reason ``leaked``, where it was found) and its
    owner is emailed after commit. A key already revoked is left as it is (still a true
    positive: the secret was real). A previous secret past its grace period no longer
    works: the key stays, and its owner is told the old secret was found.
    """
    digests, matches, scim_matches = _matches(reports)
    handled: set[str] = set()
    # A key's secrets in one alert are handled together: revoked once (through whichever of
    # them still works) and its owner mailed once, not first told of an old secret found and
    # the key left as it is, then of its revocation.
    per_key: dict[int, list[tuple[str, LeakReport]]] = {}
    for report, digest in zip(reports, digests, strict=True):
        if digest is None or digest in handled:
            continue
        handled.add(digest)
        if digest in matches:
            per_key.setdefault(matches[digest], []).append((digest, report))
        elif digest in scim_matches:
            _handle_scim_leak(scim_matches[digest], report, found_by)
    for key_pk, found in per_key.items():
        _handle_leak(key_pk, found, found_by)
    return [digest is not None and (digest in matches or digest in scim_matches) for digest in digests]


def leak_labels(*, reports: Sequence[LeakReport]) -> list[bool]:
    """For each report, whether its token is a secret Tater issued, and nothing else: the
    answer to an alert seen before (GitHub's retry), acted on the first time."""
    digests, matches, scim_matches = _matches(reports)
    return [digest is not None and (digest in matches or digest in scim_matches) for digest in digests]


def _matches(reports: Sequence[LeakReport]) -> tuple[list[str | None], dict[str, int], dict[str, int]]:
    """Each report's digest, and the keys and SCIM tokens whose secrets have them."""
    digests = [_digest(report.token) for report in reports]
    wanted = {d for d in digests if d is not None}
    matches = _keys_by_digest(wanted)
    return digests, matches, _scim_tokens_by_digest(wanted - set(matches))


@dataclass(frozen=True)
class _Found:
    """One secret of a key found in public: which of its secrets it is, and whether it still
    works (or handed the current one to whoever held it)."""

    report: LeakReport
    which: str  # current, previous, older
    live: bool
    rotated_through_it: bool = False


def _classify(api_key: ApiKey, digest: str, report: LeakReport) -> _Found:
    if api_key.digest == digest:
        return _Found(report, "current", live=True)
    grace_end = api_key.previous_expires_at
    which = "previous" if api_key.previous_digest == digest else "older"
    if which == "previous" and grace_end is not None and grace_end > timezone.now():
        return _Found(report, which, live=True)
    # No longer valid, but the current secret went to whoever held it: revoked too.
    through_it = _rotated_through_itself_since(api_key, digest)
    return _Found(report, which, live=through_it, rotated_through_it=through_it)


@transaction.atomic
def _handle_leak(key_pk: int, secrets: list[tuple[str, LeakReport]], found_by: str) -> None:
    """The secrets of one key an alert holds: the key is revoked once if any of them still
    works (the current secret first), and its owner mailed once; otherwise the owner is told
    of each old secret found (each names another place to clean up)."""
    # Locked and read again: of two alerts racing for one key, one revokes and mails.
    api_key = (
        ApiKey.objects.select_for_update(of=("self",))
        .select_related("owner", "tenant", "organization")
        .filter(pk=key_pk)
        .first()
    )
    if api_key is None or api_key.revoked_at is not None:
        return
    found = [_classify(api_key, digest, report) for digest, report in secrets]
    live = sorted((f for f in found if f.live), key=lambda f: ("current", "previous", "older").index(f.which))
    for leak in live[:1] or found:
        url, source = leak.report.url[:MAX_URL_LENGTH], leak.report.source[:MAX_SOURCE_LENGTH]
        if leak.live:
            details: dict[str, Any] = {"url": url, "source": source, "found_by": found_by, "leaked_secret": leak.which}
            if leak.rotated_through_it:
                details["rotated_through_itself"] = True
            # The system revokes, whichever channel the alert came in on.
            with context.override(channel="system"):
                apikey_revoke(api_key=api_key, actor=None, reason="leaked", details=details)
        logger.warning(
            "leaked key %s (%s secret) reported by %s: %s",
            api_key.public_id,
            leak.which,
            found_by,
            "revoked" if leak.live else "old secret, no longer valid",
        )
        _mail_owner(
            api_key,
            url=url,
            source=source,
            which=leak.which,
            revoked=leak.live,
            rotated_through_it=leak.rotated_through_it,
        )


def _rotated_through_itself_since(api_key: ApiKey, digest: str) -> bool:
    """Whether the rotation that retired the secret ``digest``, or a later one, was made
    through the key itself (an API call it authenticated): the new secret then went to
    whoever held a secret of the key before it, the one found in public among them. A
    finder who rotates the key (once or more, with no grace period) would otherwise keep
    it, the secret in public being only a rotated-out one."""
    retired = RetiredSecret.objects.filter(api_key=api_key, digest=digest).first()
    if retired is None:
        return False
    later = RetiredSecret.objects.filter(api_key=api_key, pk__gte=retired.pk, rotated_through_itself=True)
    return later.exists()


@transaction.atomic
def _handle_scim_leak(token_pk: int, report: LeakReport, found_by: str) -> None:
    token = ScimToken.objects.select_for_update(of=("self",)).select_related("tenant").filter(pk=token_pk).first()
    if token is None or token.revoked_at is not None:
        return
    url, source = report.url[:MAX_URL_LENGTH], report.source[:MAX_SOURCE_LENGTH]
    with context.override(channel="system"):
        scim_token_revoke(
            token=token, actor=None, reason="leaked", details={"url": url, "source": source, "found_by": found_by}
        )
    logger.warning("leaked SCIM token %s reported by %s: revoked", token.public_id, found_by)
    owners = _tenant_owner_emails(token.tenant_id)
    if not owners:
        return
    name = one_line(token.name)
    subject = f"Tater SCIM token “{name}” was found in public and has been revoked"
    body = render_to_string("scim/leaked_token_email.txt", {"token": token, "url": url, "source": source})
    tenant_id = token.tenant.public_id
    transaction.on_commit(
        lambda: send_about_tenant(
            subject=subject, body=body, recipients=owners, tenant_public_id=tenant_id, security_alert=True
        ),
        robust=True,
    )


def _tenant_owner_emails(tenant_pk: int) -> list[str]:
    """The addresses of the tenant's owners who can still act (active accounts)."""
    return list(
        TenantMembership.objects.filter(tenant_id=tenant_pk, role=TenantRole.OWNER, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _owner_still_in_tenant(api_key: ApiKey) -> bool:
    """Whether the key's owner is an active account holding a role in the key's tenant. A
    person deprovisioned (SCIM ``active: false``) or deactivated is outside it: mailing them
    the org's and key's names is a leak of its own (as for the expiry notices)."""
    owner = api_key.owner
    if not owner.is_active or not owner.email:
        return False
    in_tenant = TenantMembership.objects.filter(tenant_id=api_key.tenant_id, user=owner).exists()
    return in_tenant or OrgMembership.objects.filter(organization__tenant_id=api_key.tenant_id, user=owner).exists()


def _keys_made_with(api_key: ApiKey) -> tuple[list[ApiKey], list[str]]:
    """The unrevoked keys created or rotated with ``api_key`` (its audit entries name it as
    the acting key), and those made with them in turn: whoever found the key could have
    made them to keep access once it is revoked. Newest first: the list is cut at
    ``MAX_KEYS_MADE_LISTED``, and a finder's keys are the latest. Also every key followed
    (``api_key``'s id first), for ``_people_let_in``."""
    found: dict[str, None] = {}
    acting, seen = [api_key.public_id], {api_key.public_id}
    for _ in range(MAX_GENERATIONS):
        targets = (
            AuditEvent.objects.filter(
                tenant_id=api_key.tenant_id,
                api_key_id__in=acting,
                action__in=[A.API_KEY_CREATED, A.API_KEY_ROTATED],
            )
            .order_by("-pk")
            .values_list("target_id", flat=True)[: MAX_KEYS_MADE_LISTED * 20]
        )
        acting = [t for t in dict.fromkeys(targets) if t not in seen][:MAX_KEYS_MADE_LISTED]
        if not acting:
            break
        seen.update(acting)
        found.update(dict.fromkeys(acting))
    live = ApiKey.objects.filter(tenant_id=api_key.tenant_id, public_id__in=list(found), revoked_at__isnull=True)
    by_id = {key.public_id: key for key in live.select_related("organization")}
    return [by_id[public_id] for public_id in found if public_id in by_id][:MAX_KEYS_MADE_LISTED], list(seen)


PEOPLE_ACTIONS = (A.MEMBER_INVITED, A.MEMBER_INVITATION_RESENT, A.MEMBER_ADDED, A.MEMBER_ROLE_CHANGED)


def _people_let_in(tenant_pk: int, acting: list[str]) -> list[dict[str, str]]:
    """The people invited, added or given a role with the keys ``acting`` (a leaked key and
    the keys made with it) who still hold it: an invitation still open (or accepted), a
    role still held. A finder with ``members:write`` lets themselves in this way, and stays
    once the key is revoked. Newest first, at most ``MAX_KEYS_MADE_LISTED``."""
    events = (
        AuditEvent.objects.filter(tenant_id=tenant_pk, api_key_id__in=acting, action__in=PEOPLE_ACTIONS)
        .order_by("-pk")
        .values_list("action", "target_id", "organization_id")[: MAX_KEYS_MADE_LISTED * 20]
    )
    invited = [target for action, target, _ in events if action in PEOPLE_ACTIONS[:2]]
    given: set[tuple[str, int | None]] = {(t, org) for action, t, org in events if action in PEOPLE_ACTIONS[2:]}
    people: dict[tuple[str, str], dict[str, str]] = {}
    open_or_accepted = Q(accepted_at__isnull=False) | Q(expires_at__gt=timezone.now())
    invitations = Invitation.objects.filter(
        organization__tenant_id=tenant_pk, public_id__in=invited, revoked_at__isnull=True
    ).filter(open_or_accepted)
    for invitation in invitations.select_related("organization").order_by("-pk"):
        how = "invitation accepted" if invitation.accepted_at else "invited, not yet accepted"
        people[(invitation.email, invitation.organization.name)] = {
            "email": invitation.email,
            "role": invitation.role,
            "where": f"organization {invitation.organization.name}",
            "how": how,
        }
    users = {user for user, _ in given}
    org_roles = OrgMembership.objects.filter(organization__tenant_id=tenant_pk, user__public_id__in=users)
    for membership in org_roles.select_related("user", "organization"):
        if (membership.user.public_id, membership.organization_id) in given:
            where = f"organization {membership.organization.name}"
            people.setdefault(
                (membership.user.email, membership.organization.name),
                {"email": membership.user.email, "role": membership.role, "where": where, "how": "added"},
            )
    tenant_roles = TenantMembership.objects.filter(tenant_id=tenant_pk, user__public_id__in=users)
    for tenant_role in tenant_roles.select_related("user"):
        if (tenant_role.user.public_id, None) in given:
            email = tenant_role.user.email
            people.setdefault(
                (email, ""), {"email": email, "role": tenant_role.role, "where": "the tenant", "how": "added"}
            )
    return list(people.values())[:MAX_KEYS_MADE_LISTED]


def _invitations_withdrawn(api_key: ApiKey) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The invitations sent (or last resent) through ``api_key`` that were withdrawn: those
    withdrawn with its revocation (in its transaction, after the key's own ``revoked_at``),
    then those withdrawn before (by an admin, or replaced): the addresses a finder tried to
    let in. Newest first, at most ``MAX_KEYS_MADE_LISTED`` in each."""
    revoked_at = ApiKey.objects.filter(pk=api_key.pk).values_list("revoked_at", flat=True).first()
    withdrawn = Invitation.objects.filter(
        organization__tenant_id=api_key.tenant_id, sent_through_key_pk=api_key.pk, revoked_at__isnull=False
    ).select_related("organization")
    if revoked_at is None:  # not revoked: nothing went with it
        return [], []

    def listed(invitations: Any) -> list[dict[str, str]]:
        return [
            {"email": i.email, "role": i.role, "where": f"organization {i.organization.name}"}
            for i in invitations.order_by("-pk")[:MAX_KEYS_MADE_LISTED]
        ]

    return listed(withdrawn.filter(revoked_at__gte=revoked_at)), listed(withdrawn.filter(revoked_at__lt=revoked_at))


def _mail_owner(
    api_key: ApiKey, *, url: str, source: str, which: str, revoked: bool, rotated_through_it: bool = False
) -> None:
    """The key's owner, or, when the owner has left (deactivated, deprovisioned), the
    tenant's owners: someone who can still remove the secret from where it was found."""
    for_owner = _owner_still_in_tenant(api_key)
    recipients = [api_key.owner.email] if for_owner else _tenant_owner_emails(api_key.tenant_id)
    recipients = [r for r in recipients if r and (for_owner or r != api_key.owner.email)]
    if not recipients:
        return
    # A key name stored before names were checked may hold a line break: never in the Subject.
    name = one_line(api_key.name)
    subject = (
        f"Tater API key “{name}” was found in public and has been revoked"
        if revoked
        else f"An old secret of Tater API key “{name}” was found in public"
    )
    made_with_it, acting = _keys_made_with(api_key)
    withdrawn_with_it, withdrawn_before = _invitations_withdrawn(api_key) if revoked else ([], [])
    body = render_to_string(
        "apikeys/leaked_key_email.txt",
        {
            "api_key": api_key,
            "url": url,
            "source": source,
            "which": which,
            "revoked": revoked,
            "rotated_through_it": rotated_through_it,
            "for_owner": for_owner,
            "owner_email": api_key.owner.email,
            "made_with_it": made_with_it,
            "people_let_in": _people_let_in(api_key.tenant_id, acting),
            "invitations_withdrawn": withdrawn_with_it,
            "invitations_withdrawn_before": withdrawn_before,
        },
    )
    # After commit: a rolled-back revocation mails nobody; a mail failure does not undo it.
    # Named after its tenant: without a mail server, its owners read it in their Outbox.
    tenant_id = api_key.tenant.public_id
    transaction.on_commit(
        lambda: send_about_tenant(
            subject=subject, body=body, recipients=recipients, tenant_public_id=tenant_id, security_alert=True
        ),
        robust=True,
    )
