"""``tater orgs ...`` and ``tater members ...``: organizations and who belongs to them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tater_client.cli_base import EXIT_OK, Leaf, UsageError, print_list
from tater_client.client import Tater
from tater_client.errors import AmbiguousOrg
from tater_client.org_models import Invitation, Member, Organization
from tater_client.output import as_text, write_fields, write_json, write_table

ORG_COLUMNS = ("ID", "NAME", "SLUG", "TENANT", "CREATED")
MEMBER_COLUMNS = ("USER ID", "EMAIL", "ROLE", "TENANT ROLE", "EFFECTIVE", "JOINED")
INVITATION_COLUMNS = ("INVITATION", "EMAIL", "ROLE", "INVITED BY", "EXPIRES")


def _org_row(org: Organization) -> list[Any]:
    return [org.id, org.name, org.slug, org.tenant_name or org.tenant_id, org.created_at]


def _member_row(member: Member) -> list[Any]:
    return [member.user_id, member.email, member.role, member.tenant_role, member.effective_role, member.joined_at]


def _invitation_row(invitation: Invitation) -> list[Any]:
    return [invitation.id, invitation.email, invitation.role, invitation.invited_by, invitation.expires_at]


def _print_org(args: argparse.Namespace, org: Organization) -> int:
    if args.json:
        write_json(sys.stdout, org.raw)
    else:
        write_fields(
            sys.stdout,
            [
                ("id", org.id),
                ("name", org.name),
                ("slug", org.slug),
                ("tenant", org.tenant_id),
                ("tenant name", org.tenant_name),
                ("created", org.created_at),
            ],
        )
    return EXIT_OK


def _print_member(args: argparse.Namespace, member: Member) -> int:
    if args.json:
        write_json(sys.stdout, member.raw)
    else:
        write_table(sys.stdout, MEMBER_COLUMNS, [_member_row(member)])
    return EXIT_OK


def cmd_orgs_list(client: Tater, args: argparse.Namespace) -> int:
    return print_list(
        args,
        key="organizations",
        noun="organizations",
        columns=ORG_COLUMNS,
        row=_org_row,
        every=client.organizations.iter,
        page=lambda: client.organizations.list(limit=args.limit, offset=args.offset),
        items=lambda page: page.organizations,
    )


def cmd_orgs_get(client: Tater, args: argparse.Namespace) -> int:
    return _print_org(args, client.organizations.get(args.id))


def cmd_orgs_create(client: Tater, args: argparse.Namespace) -> int:
    return _print_org(args, client.organizations.create(args.name))


def cmd_orgs_rename(client: Tater, args: argparse.Namespace) -> int:
    return _print_org(args, client.organizations.rename(args.id, args.name))


def _org_of(client: Tater, args: argparse.Namespace) -> str:
    """The organization the member commands act in: ``--organization``, else the key's own."""
    if args.organization:
        return str(args.organization)
    try:
        org_id = client.validate().organization_id
    except AmbiguousOrg:
        org_id = None
    if not org_id:
        raise UsageError("an unbound key reaches several organizations: name one with --organization ORG_ID")
    return org_id


def cmd_members_list(client: Tater, args: argparse.Namespace) -> int:
    org_id = _org_of(client, args)
    if args.all:
        members = list(client.members.iter(org_id))
        if args.json:
            write_json(sys.stdout, {"members": [m.raw for m in members], "total": len(members)})
        else:
            write_table(sys.stdout, MEMBER_COLUMNS, (_member_row(m) for m in members))
        return EXIT_OK
    page = client.members.list(org_id, limit=args.limit, offset=args.offset)
    if args.json:
        write_json(sys.stdout, page.raw)
        return EXIT_OK
    write_table(sys.stdout, MEMBER_COLUMNS, (_member_row(m) for m in page.members))
    for title, invitations in (("pending", page.pending_invitations), ("on hold", page.held_invitations)):
        if invitations:
            sys.stdout.write(f"\nInvitations {title}:\n")
            write_table(sys.stdout, INVITATION_COLUMNS, (_invitation_row(i) for i in invitations))
    shown = page.offset + len(page.members)
    # Members and invitations page by the same offset: go on while either has more.
    if shown < page.total or page.offset + page.limit < max(
        page.pending_invitations_total, page.held_invitations_total
    ):
        following = page.offset + max(page.limit, 1)
        sys.stderr.write(f"{shown} of {page.total} members shown: --offset {following} for more\n")
    return EXIT_OK


def cmd_members_get(client: Tater, args: argparse.Namespace) -> int:
    return _print_member(args, client.members.get(_org_of(client, args), args.user_id))


def cmd_members_add(client: Tater, args: argparse.Namespace) -> int:
    added = client.members.add(_org_of(client, args), args.email, role=args.role)
    if args.json:
        write_json(sys.stdout, added.raw)
    elif added.member is not None:
        sys.stdout.write(f"added: {as_text(added.member.user_id)}  {as_text(added.member.email)}  ")
        sys.stdout.write(f"role={as_text(added.member.role)}\n")
    elif added.invitation is not None:
        invitation = added.invitation
        sys.stdout.write(f"invited: {as_text(invitation.email)}  role={as_text(invitation.role)}  ")
        sys.stdout.write(f"expires {as_text(invitation.expires_at)}  ({as_text(invitation.id)})\n")
    else:
        sys.stdout.write(f"{as_text(added.result)}\n")
    return EXIT_OK


def cmd_members_update(client: Tater, args: argparse.Namespace) -> int:
    if args.role is None and args.tenant_role is None:
        raise UsageError("nothing to change: give --role and/or --tenant-role")
    changes: dict[str, Any] = {}
    if args.role is not None:
        changes["role"] = args.role
    if args.tenant_role is not None:
        changes["tenant_role"] = None if args.tenant_role == "none" else args.tenant_role
    return _print_member(args, client.members.update(_org_of(client, args), args.user_id, **changes))


def cmd_members_remove(client: Tater, args: argparse.Namespace) -> int:
    org_id = _org_of(client, args)
    client.members.remove(org_id, args.user_id)
    if args.json:  # the API answers 204, no body
        write_json(sys.stdout, {"organization_id": org_id, "user_id": args.user_id, "removed": True})
    else:
        sys.stdout.write(f"removed {as_text(args.user_id)} from {as_text(org_id)}\n")
    return EXIT_OK


def cmd_members_resend_invitation(client: Tater, args: argparse.Namespace) -> int:
    invitation = client.members.resend_invitation(_org_of(client, args), args.invitation_id)
    if args.json:
        write_json(sys.stdout, invitation.raw)
    else:
        sys.stdout.write(f"resent: {as_text(invitation.email)}  role={as_text(invitation.role)}  ")
        sys.stdout.write(f"expires {as_text(invitation.expires_at)}  ({as_text(invitation.id)})\n")
    return EXIT_OK


def cmd_members_revoke_invitation(client: Tater, args: argparse.Namespace) -> int:
    org_id = _org_of(client, args)
    client.members.revoke_invitation(org_id, args.invitation_id)
    if args.json:  # the API answers 204, no body
        write_json(sys.stdout, {"organization_id": org_id, "invitation_id": args.invitation_id, "revoked": True})
    else:
        sys.stdout.write(f"revoked invitation {as_text(args.invitation_id)} in {as_text(org_id)}\n")
    return EXIT_OK


def add_commands(commands: Any, leaf: Leaf) -> None:
    orgs = commands.add_parser("orgs", help="organizations").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    sub = leaf(orgs, "list", cmd_orgs_list, "the organizations the key reaches")
    sub.add_argument("--limit", type=int, help="page size, 1-200 (default 50)")
    sub.add_argument("--offset", type=int, help="skip N organizations")
    sub.add_argument("--all", action="store_true", help="every organization (every page)")
    leaf(orgs, "get", cmd_orgs_get, "show one organization").add_argument("id")
    leaf(orgs, "create", cmd_orgs_create, "create an organization (tenant owners/admins, unbound key)").add_argument(
        "name"
    )
    sub = leaf(orgs, "rename", cmd_orgs_rename, "rename an organization")
    sub.add_argument("id")
    sub.add_argument("name")

    members = commands.add_parser(
        "members", help="members of an organization (--organization ORG_ID, else the key's own)"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = leaf(members, "list", cmd_members_list, "list members by email, and pending invitations")
    sub.add_argument("--limit", type=int, help="page size, 1-200 (default 50)")
    sub.add_argument("--offset", type=int, help="skip N members (and invitations)")
    sub.add_argument("--all", action="store_true", help="every member (every page; no invitations)")
    leaf(members, "get", cmd_members_get, "show one member").add_argument("user_id", metavar="USER_ID")
    sub = leaf(members, "add", cmd_members_add, "add the user with this verified address, or email an invitation")
    sub.add_argument("email")
    sub.add_argument("--role", choices=["admin", "member", "viewer"], help="role in the organization (default member)")
    sub = leaf(members, "update", cmd_members_update, "change a member's org role and/or tenant role")
    sub.add_argument("user_id", metavar="USER_ID")
    sub.add_argument("--role", choices=["admin", "member", "viewer"], help="new role in the organization")
    sub.add_argument(
        "--tenant-role", choices=["owner", "admin", "none"], help="new tenant-wide role; none drops it (unbound key)"
    )
    leaf(members, "remove", cmd_members_remove, "remove a member (their keys stop working here)").add_argument(
        "user_id", metavar="USER_ID"
    )
    leaf(
        members, "resend-invitation", cmd_members_resend_invitation, "email an invitation again (a new link)"
    ).add_argument("invitation_id", metavar="INVITATION_ID")
    leaf(members, "revoke-invitation", cmd_members_revoke_invitation, "withdraw an invitation").add_argument(
        "invitation_id", metavar="INVITATION_ID"
    )
