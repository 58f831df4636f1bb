"""SPEC §8/§13: removing the last second factor besides the recovery codes turns 2FA off
(the codes go too) rather than leaving single-use codes as the only factor; also when the
last two passkeys are removed at once (two tabs, two devices)."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from accounts import services
from accounts.models import RecoveryCodeDevice
from tests.factories import UserFactory, make_passkey
from tests.security.test_races_review import Rendezvous, race  # noqa: F401

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def test_removing_the_last_two_passkeys_at_once_turns_2fa_off(monkeypatch: Any) -> None:
    from accounts import passkeys

    user = UserFactory()
    first, second = make_passkey(user, 1), make_passkey(user, 2)
    services.recovery_codes_regenerate(user=user)
    rendezvous = Rendezvous(2)
    for passkey in (first, second):
        # Each removal waits after deleting its passkey, before looking for other factors.
        original = passkey.delete

        def delete(original: Any = original) -> Any:
            result = original()
            rendezvous.hold()
            return result

        passkey.delete = delete  # type: ignore[method-assign]

    results = race(
        [lambda: passkeys.passkey_remove(passkey=first), lambda: passkeys.passkey_remove(passkey=second)], rendezvous
    )

    assert results == [None, None], results
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert services.second_factor_methods(user) == []
