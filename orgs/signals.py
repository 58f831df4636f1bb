"""What the orgs app tells the apps above it (import-linter keeps orgs from importing them).

Declarations only; the receivers are connected in those apps' ``AppConfig.ready``. Every
signal here is sent inside the transaction of the change it announces: a receiver that
raises undoes the change with it.
"""

from __future__ import annotations

from django.dispatch import Signal

# A person left an org or lost their tenant role for good (not a SCIM suspension, which
# keeps what it takes for their return): ``tenant``, ``user``, ``organization`` (the org
# left; None: the tenant role, which reached every org), ``actor`` (as the membership
# service got it: a user, an ``orgs.policy.Actor`` or None). apikeys revokes the keys the
# person no longer reaches (SPEC §2: "removing the owner ... kills the key").
member_left = Signal()

# Sent first, before a removal that then sends ``member_left`` locks anything (the tenant row,
# the membership): ``tenant``, ``user``. What ``member_left``'s receivers will write ahead of
# those rows in the lock order (scim: the person's SCIM Users, then their account and its
# sign-out rows, when the removal may end the account) is locked now: taken after the
# membership and the audit chain, they deadlock with a directory's change of that person.
member_leave_ahead = Signal()

# Sent first, before a change that gives a person a role (a tenant role, or an org's; a join
# or a role change, as the service cannot tell before it locks) locks anything: ``tenant``,
# ``user``, ``actor`` (as above). scim locks the person's Users (the change queues with the
# directory's change of that person) and, when this gives a role again by hand to someone it
# deprovisioned, revokes the keys kept for their return: the User, then the tenant, memberships
# and keys, ahead of the join's rows and audit chain, as a directory's change takes them.
member_join_ahead = Signal()

# A person was given a new membership in the tenant (a tenant role, or an org's, where they
# held none): ``tenant``, ``user``, ``actor`` (as above). Sent once the membership and its
# entry are written. scim lists the person in the tenant's directory, if it has one.
member_joined = Signal()

# A tenant's maximum key lifetime was set or changed to ``days`` (tenant_update, every
# channel): ``tenant``, ``days``, ``actor`` (as above). apikeys brings every unrevoked key of
# the tenant that would outlive it to expire ``days`` from now.
key_lifetime_capped = Signal()

# Sent first, before a change that then sweeps keys (``member_left``, ``key_lifetime_capped``)
# writes anything: ``tenant``, ``user`` (whose keys; None: every key of the tenant). apikeys
# locks those keys: the change's own writes (its audit entry, the key check's bookkeeping)
# lock rows a key change in flight takes after its key, so taking the keys last deadlocks.
keys_sweep_ahead = Signal()

# Sent first, before an invitation sent or resent through an API key locks anything, and
# before a role given through one (``orgs.members``: after the person's Users, the tenant row
# and the caller's roles) locks the person's membership: ``tenant_pk``, ``key_pk``, optional
# ``nothing_done`` (what the refusal says did not happen). apikeys locks that key until the
# transaction ends and refuses (``NotPermitted``) if it was revoked or deactivated since the
# request's key check: a revocation or deactivation then waits for the change and sees it
# (withdraws or holds the invitation with the key's others, ``orgs.key_invitations``; its leak
# mail names the person let in), never misses one written after it looked.
key_vouch_ahead = Signal()
