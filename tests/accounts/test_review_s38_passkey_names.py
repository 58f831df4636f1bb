"""A passkey's name is what the security page, the admin and the Activity Log show to tell
an account's factors apart. Unlike every other name people give things, it took control,
text-direction and invisible characters: a passkey renamed ``Work\\u200blaptop`` next to the
real ``Work laptop`` (which one to remove after a loss?), or ``\\u202eevil`` shown reversed.
Renaming to such a name is refused with the names rule's message; the name is unchanged."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import UserFactory, make_passkey

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["Work\u200blaptop", "\u202eevil.exe", "Work\x1b[31m laptop", "pr\u00adod"], ids=ascii)
def test_renaming_a_passkey_to_a_name_that_does_not_read_as_written(name: str) -> None:
    user = UserFactory()
    passkey = make_passkey(user, 1)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("accounts_passkey_rename", args=[passkey.pk]), {"name": name}, follow=True)
    passkey.refresh_from_db()
    assert passkey.name == "key 1"
    shown = [str(m) for m in response.context["messages"]]
    assert any("name" in m.lower() and ("invisible" in m or "one line" in m) for m in shown), shown
    assert not AuditEvent.objects.filter(action="mfa.passkey_renamed").exists()


def test_an_ordinary_name_is_still_taken_with_its_spaces_tidied() -> None:
    user = UserFactory()
    passkey = make_passkey(user, 1)
    client = Client()
    client.force_login(user)
    client.post(reverse("accounts_passkey_rename", args=[passkey.pk]), {"name": "  Work   laptop 👩\u200d💻 "})
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop 👩\u200d💻"
