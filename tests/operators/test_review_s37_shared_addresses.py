"""SPEC §8, one address per person: since today every path refuses an address another account
holds under any spelling, but accounts made before could already share one (``straße@`` on
one, ``strasse@`` added to another; both could accept one invitation). ``manage.py
shared_addresses`` lists them for an operator to settle (remove the address from the account
that should not hold it), and lists nothing when every address has one account."""

from __future__ import annotations

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def shared() -> list[dict]:
    out = io.StringIO()
    call_command("shared_addresses", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])["shared"]


def text() -> str:
    out = io.StringIO()
    call_command("shared_addresses", stdout=out)
    return out.getvalue()


def test_nothing_is_listed_when_each_address_has_one_account() -> None:
    kim = UserFactory(email="kim@x.test", verified=True)
    EmailAddress.objects.create(user=kim, email="kim@work.test", verified=True)
    UserFactory(email="lee@x.test", verified=True)
    assert shared() == []
    assert "No address" in text()


def test_an_address_on_two_accounts_under_two_spellings_is_listed() -> None:
    ana = UserFactory(email="straße@x.test", verified=True)
    bob = UserFactory(email="bob@x.test", verified=True)
    # Written the way allauth's add-email form wrote it before the look-alike check.
    EmailAddress.objects.create(user=bob, email="strasse@x.test", verified=False)
    (entry,) = shared()
    assert entry["address"] == "strasse@x.test"
    holders = {h["user_id"]: h for h in entry["accounts"]}
    assert set(holders) == {ana.public_id, bob.public_id}
    assert holders[ana.public_id]["primary"] is True
    assert (holders[bob.public_id]["email"], holders[bob.public_id]["verified"]) == ("strasse@x.test", False)
    assert "strasse@x.test" in text() and bob.public_id in text()


def test_two_additional_addresses_in_idna_and_unicode_are_listed() -> None:
    one = UserFactory(email="one@x.test", verified=True)
    two = UserFactory(email="two@x.test", verified=True)
    EmailAddress.objects.create(user=one, email="kim@bücher.test", verified=True)
    EmailAddress.objects.create(user=two, email="kim@xn--bcher-kva.test", verified=True)
    (entry,) = shared()
    assert {h["user_id"] for h in entry["accounts"]} == {one.public_id, two.public_id}
