"""Failed-authentication lockout: per client address (bad keys) and per account (sign-in)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from audit.models import AuditEvent
from tater import context, lockout

VALIDATE = "/api/v1/auth/validate"
BAD_KEY = "tater_" + "0" * 32
ATTACKER = "198.51.100.7"


def bad(api, ip=ATTACKER, **extra):
    return api.get(VALIDATE, HTTP_X_API_KEY=BAD_KEY, REMOTE_ADDR=ip, **extra)


def lockouts():
    return list(AuditEvent.objects.filter(action="auth.locked_out").order_by("id"))


@pytest.mark.django_db
class TestClientLockout:
    def test_twenty_failures_lock_the_address(self, api, world, clock):
        statuses = [bad(api).status_code for _ in range(19)]
        assert statuses == [401] * 19
        r = bad(api)  # the 20th failure starts the lockout
        assert r.status_code == 429
        body = r.json()
        assert (body["error"], body["message"]) == (
            "LOCKED_OUT",
            "Too many failed authentication attempts, retry in 900 seconds",
        )
        assert r["Retry-After"] == "900"
        clock.advance(100)
        r = bad(api)
        assert (r.status_code, r["Retry-After"]) == (429, "800")
        # Another address is untouched.
        assert bad(api, ip="203.0.113.5").status_code == 401

    def test_lockout_is_audited_once(self, api, world, clock):
        for _ in range(30):
            bad(api)
        events = lockouts()
        assert len(events) == 1
        event = events[0]
        assert event.tenant_id is None
        assert event.changes["scope"] == "client"
        assert event.changes["address"] == ATTACKER
        assert event.changes["kind"] == "api_key"
        assert event.changes["failures"] == 20
        assert event.ip == ATTACKER
        assert BAD_KEY not in str(event.changes)

    def test_valid_key_holder_is_never_locked_out(self, api, world, clock):
        for _ in range(25):
            bad(api)
        assert bad(api).status_code == 429
        # The key holder behind the same (e.g. NAT) address keeps working.
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR=ATTACKER)
        assert r.status_code == 200
        assert r.json()["valid"] is True

    def test_lockout_expires(self, api, world, clock):
        for _ in range(20):
            bad(api)
        clock.advance(899)
        assert bad(api).status_code == 429
        clock.advance(2)
        assert bad(api).status_code == 401  # unlocked, and a fresh failure window
        # Locking again is a new, separately audited lockout.
        for _ in range(19):
            bad(api)
        assert bad(api).status_code == 429
        assert len(lockouts()) == 2

    def test_failures_straddling_a_window_boundary_still_lock(self, api, world, clock):
        """SPEC §6: 20 failures within 10 minutes lock the address, whichever 10 minutes. A
        guesser who splits them around a multiple of 600 s since the epoch (where a fixed
        window would restart its count) is locked all the same."""
        clock.advance(600 - clock.t % 600 - 5)  # 5 s before a boundary
        assert [bad(api).status_code for _ in range(10)] == [401] * 10
        clock.advance(10)  # past it
        assert [bad(api).status_code for _ in range(9)] == [401] * 9
        r = bad(api)  # the 20th within 15 s
        assert (r.status_code, r.json()["error"]) == (429, "LOCKED_OUT")

    def test_failures_spread_over_windows_do_not_lock(self, api, world, clock):
        with override_settings(
            TATER_LOCKOUT_CLIENT_FAILURES=3, TATER_LOCKOUT_CLIENT_WINDOW=60, TATER_LOCKOUT_CLIENT_DURATION=30
        ):
            assert [bad(api).status_code for _ in range(2)] == [401, 401]
            clock.advance(60)
            assert [bad(api).status_code for _ in range(2)] == [401, 401]
            r = bad(api)
            assert (r.status_code, r["Retry-After"]) == (429, "30")
            clock.advance(31)
            assert bad(api).status_code == 401

    def test_revoked_and_expired_keys_count_as_failures(self, api, world, clock):
        from apikeys import services

        services.apikey_revoke(api_key=world["member_key"], actor=world["owner"])
        with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
            codes = [
                api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"], REMOTE_ADDR=ATTACKER).json()["error"]
                for _ in range(3)
            ]
        assert codes == ["KEY_REVOKED", "KEY_REVOKED", "LOCKED_OUT"]

    def test_ipv6_counted_per_64(self, api, world, clock):
        with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
            assert bad(api, ip="2001:db8:1:2::1").status_code == 401
            assert bad(api, ip="2001:db8:1:2::ffff").status_code == 401
            assert bad(api, ip="2001:db8:1:2:aaaa::9").status_code == 429
            assert bad(api, ip="2001:db8:1:3::1").status_code == 401  # another /64

    def test_client_bucket(self):
        assert lockout.client_bucket("198.51.100.7") == "198.51.100.7"
        assert lockout.client_bucket("::ffff:198.51.100.7") == "198.51.100.7"
        assert lockout.client_bucket("2001:db8::1") == "2001:db8::/64"


@pytest.mark.django_db
class TestAccountLockout:
    EMAIL = "victim@example.com"

    def test_ten_failed_sign_ins_lock_the_account(self, clock):
        for i in range(9):
            # From many addresses: the account counter is what trips.
            lockout.register_failure(ip=f"192.0.2.{i}", kind="password", account=self.EMAIL)
        lockout.check_account(self.EMAIL)
        with pytest.raises(lockout.LockedOut) as exc:
            lockout.register_failure(ip="192.0.2.99", kind="otp", account=self.EMAIL)
        assert exc.value.status_code == 429 and exc.value.code == "LOCKED_OUT"
        assert exc.value.headers["Retry-After"] == "900"
        with pytest.raises(lockout.LockedOut):
            lockout.check_account("Victim@Example.com ")  # same account, any spelling
        lockout.check_account("someone-else@example.com")
        events = lockouts()
        assert len(events) == 1
        assert events[0].changes["scope"] == "account"
        assert events[0].changes["account"] == self.EMAIL
        assert events[0].changes["kind"] == "otp"

    def test_sign_ins_straddling_a_window_boundary_still_lock(self, clock):
        clock.advance(900 - clock.t % 900 - 5)  # 5 s before a multiple of 15 minutes
        for i in range(5):
            lockout.register_failure(ip=f"192.0.2.{i}", kind="password", account=self.EMAIL)
        clock.advance(10)
        for i in range(4):
            lockout.register_failure(ip=f"192.0.2.{10 + i}", kind="password", account=self.EMAIL)
        with pytest.raises(lockout.LockedOut):  # the 10th within 15 s
            lockout.register_failure(ip="192.0.2.99", kind="password", account=self.EMAIL)

    def test_account_lock_expires(self, clock):
        for _ in range(10):
            with pytest.raises(lockout.LockedOut) if _ == 9 else _nullcontext():
                lockout.register_failure(ip=f"192.0.2.{_}", kind="token_exchange", account=self.EMAIL)
        clock.advance(600)
        with pytest.raises(lockout.LockedOut) as exc:
            lockout.check_account(self.EMAIL)
        assert exc.value.headers["Retry-After"] == "300"
        clock.advance(300)
        lockout.check_account(self.EMAIL)

    def test_api_key_failures_do_not_touch_accounts(self, clock):
        for i in range(15):
            lockout.register_failure(ip=f"192.0.2.{i}", kind="api_key", account=self.EMAIL)
        lockout.check_account(self.EMAIL)

    def test_check_account_refuses_a_locked_client_address(self, clock):
        with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=2):
            lockout.register_failure(ip=ATTACKER, kind="password", account="a@example.com")
            with pytest.raises(lockout.LockedOut):
                lockout.register_failure(ip=ATTACKER, kind="password", account="b@example.com")
        with context.override(ip=ATTACKER), pytest.raises(lockout.LockedOut):
            # Checked before the password is verified: a locked client learns nothing.
            lockout.check_account("c@example.com")
        with context.override(ip="203.0.113.5"):
            lockout.check_account("c@example.com")
        with pytest.raises(lockout.LockedOut):
            lockout.check_client(ATTACKER)


class _nullcontext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
