"""What the accounts app tells the apps above it (import-linter keeps accounts from importing them).

Declarations only; the receivers are connected in those apps' ``AppConfig.ready``. Sent inside
the transaction of the change it announces: a receiver that raises undoes the change with it.
"""

from __future__ import annotations

from django.dispatch import Signal

# An operator turned an account on or off (the admin's "active"): ``user``, ``active`` (the new
# value). Whether the account is active is theirs from then on: scim forgets that its
# deprovisioning deactivated it, so the IdP assigning the person again does not undo the stop.
account_active_set_by_operator = Signal()

# An operator is about to write an account (``user``: change it in the admin, or delete it).
# Sent before its row is written: receivers lock what they would otherwise take after it, in
# the order the apps above take it. A directory's change locks the person's User first and
# saves the account last (scim.services.provisioning), so the operator's change takes those
# Users before the account: the two queue instead of deadlocking (SPEC §12).
account_write_ahead = Signal()
