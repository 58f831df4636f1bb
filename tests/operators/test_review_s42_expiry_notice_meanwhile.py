"""``send_key_expiry_notices`` reads the keys due once, then mails them one after another; each
mail may wait on the mail server (``EMAIL_TIMEOUT``, 10 s), so a run over many keys lasts
minutes. A key revoked or deactivated in the meantime, or whose owner left the tenant, was
still mailed "expires soon, rotate it": revoked keys get no notice, and a departed owner is
not told the org's and key's names (SPEC §14 expiry notices, §2 lifecycle)."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from tests.factories import add_member, make_key

pytestmark = pytest.mark.django_db

COMMAND_MODULE = "apikeys.management.commands.send_key_expiry_notices"


def run() -> dict[str, Any]:
    out = io.StringIO()
    call_command("send_key_expiry_notices", "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def notices_while(
    world: dict[str, Any], monkeypatch: Any, meanwhile: Callable[[ApiKey], None]
) -> list[tuple[str, int]]:
    """Run the command over two keys expiring in 5 days; while the first notice is mailed,
    ``meanwhile`` acts on the other key. The notices sent: (key name, days)."""
    member = add_member(world["org1"], "admin")
    keys = [
        make_key(
            user=member,
            tenant=world["tenant"],
            org=world["org1"],
            name=name,
            expires_at=timezone.now() + timedelta(days=5),
        )[0]
        for name in ("first", "second")
    ]
    module = importlib.import_module(COMMAND_MODULE)
    send = module.send_about_tenant
    mailed: list[str] = []

    def slow_send(**kwargs: Any) -> Any:
        name = next(k.name for k in keys if f"“{k.name}”" in kwargs["subject"])
        if not mailed:
            meanwhile(next(k for k in keys if k.name != name))
        mailed.append(name)
        return send(**kwargs)

    monkeypatch.setattr(module, "send_about_tenant", slow_send)
    sent = run()["sent"]
    assert len(sent) == len(mailed) == len(mail.outbox)
    names = {k.public_id: k.name for k in keys}
    return [(names[s["id"]], s["days"]) for s in sent]


def test_a_key_revoked_while_the_notices_go_out_gets_none(world: dict[str, Any], monkeypatch: Any) -> None:
    def revoke(api_key: ApiKey) -> None:
        key_services.apikey_revoke(api_key=ApiKey.objects.get(pk=api_key.pk), actor=world["owner"])

    assert len(notices_while(world, monkeypatch, revoke)) == 1


def test_a_key_deactivated_while_the_notices_go_out_gets_none(world: dict[str, Any], monkeypatch: Any) -> None:
    def deactivate(api_key: ApiKey) -> None:
        key_services.apikey_set_active(api_key=ApiKey.objects.get(pk=api_key.pk), actor=world["owner"], active=False)

    assert len(notices_while(world, monkeypatch, deactivate)) == 1


def test_an_owner_deactivated_while_the_notices_go_out_is_not_mailed(world: dict[str, Any], monkeypatch: Any) -> None:
    # Both keys are the same person's: deactivated after the first notice, they get no second.
    def deactivate_owner(api_key: ApiKey) -> None:
        type(api_key.owner).objects.filter(pk=api_key.owner_id).update(is_active=False)

    assert len(notices_while(world, monkeypatch, deactivate_owner)) == 1


def test_a_key_whose_expiry_moved_meanwhile_is_told_of_its_new_date_by_the_next_run(
    world: dict[str, Any], monkeypatch: Any
) -> None:
    def extend(api_key: ApiKey) -> None:
        key_services.apikey_update(
            api_key=ApiKey.objects.get(pk=api_key.pk),
            actor=api_key.owner,
            expires_at=timezone.now() + timedelta(days=20),
        )

    # Not the 7-day notice of the date it no longer has: the 30-day one of its new date.
    first, second = notices_while(world, monkeypatch, extend)
    assert first[1] == 7 and second == ("second" if first[0] == "first" else "first", 30)
    assert run()["sent"] == []
