"""Every SCIM write, one module per subject: ``tokens`` (the tenant's SCIM tokens), ``users``
and ``groups`` (the tenant's directory), ``directory`` (the members it lists before the
identity provider says anything: seeded by the first token, joined by each new member; never
on a read), ``provisioning``, what a directory change does to
Tater accounts, memberships, sessions and keys, ``departures``, what a removal by hand does
once the domain owner's directory let the person go, and ``returns``, what a role given by hand
to a person the directory deprovisioned does to the keys kept for their return; ``common`` holds
what they share. Each
service runs in one transaction with its audit entries; on ``/scim/v2/`` the audit channel is
``scim`` and the entry's key id is the acting SCIM token's id (scim.protocol.authentication
sets both).

Decisions (docs/scim.md has the long form):

- **Tenant boundary.** A tenant's directory changes only what is its own. Deprovisioning
  (``active: false`` or DELETE) ends the person's roles in *this* tenant; the account
  itself is deactivated (sessions ended, API keys refused on the next request) only when
  no other tenant holds it and its address is in one of the tenant's verified domains, or in
  those of a tenant that let the person go first (a guest's account stays active, its
  sessions end); a platform operator's (staff) account
  is never deactivated, and only the tenant whose verified domain holds its address ends
  its sessions. The account's email and name follow the directory only then.
- **Accounts.** A new account is created only for a userName in one of the tenant's
  verified domains (SPEC §8); an existing account is linked only when it already belongs
  to the tenant, by its sign-in address or a verified additional one (never one it holds
  unverified). Otherwise the User is *pending*: it exists in the directory, holds
  nothing, and is linked once the account belongs to the tenant.
- **Reprovisioning** (``active: true``, or a POST after a DELETE) reactivates an account
  only if deprovisioning deactivated it, and no operator turned it on or off since
  (``account_kept_inactive`` in the entry), and re-applies the groups; the person starts fresh
  (Okta, Entra ID): roles given by hand before are not given back. Keys come back with
  their owner's roles; revoked keys stay revoked.
  A DELETE is no suspension: the person's keys in the tenant are revoked
  (``apikeys.reactions``), as a group's removal revokes those of its org.
- **Groups** grant what the tenant owner maps them to (an org and a role). In a mapped org
  the groups decide the role of their members; a membership a group granted ends with the
  group, a membership someone added by hand is never removed by SCIM: it has its own role
  again when no group grants one there any more. One an admin ends outside SCIM stays ended
  while the same groups grant it (the User stays as the identity provider set it).
"""
