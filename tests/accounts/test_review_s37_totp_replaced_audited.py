"""SPEC §7: every change lands in the audit log. Setting up a new authenticator app replaces
the old one and the ten recovery codes; the log said only ``mfa.enabled`` (method totp), the
same as a first set-up: whoever reads it after a takeover (an attacker who got in and
enrolled their own phone) could not tell that the owner's authenticator and codes were
thrown away. The entry now names what it replaced."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from tests.accounts.conftest import enrol

pytestmark = pytest.mark.django_db


def test_a_first_authenticator_replaces_nothing(user: Any) -> None:
    enrol(user)
    entry = AuditEvent.objects.get(action="mfa.enabled")
    assert entry.changes["method"] == "totp"
    assert not entry.changes.get("replaced")


def test_a_new_authenticator_names_the_one_and_the_codes_it_replaced(user: Any) -> None:
    enrol(user)
    enrol(user)  # a new phone: a new secret
    latest = AuditEvent.objects.filter(action="mfa.enabled").order_by("-pk").first()
    assert latest.changes["method"] == "totp"
    assert set(latest.changes["replaced"]) == {"totp", "recovery_code"}  # as mfa.disabled names them
