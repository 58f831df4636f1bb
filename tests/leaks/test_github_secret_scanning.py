"""GitHub's secret-scanning partner endpoint (SPEC §14), end to end through the HTTP stack.

GitHub is played by a P-256 key made per test whose public key a real HTTP server on
127.0.0.1 publishes (tests/leaks/conftest.py). Expectations come from the SPEC and from
GitHub's partner-program documentation: the body is verified before anything is read, every
secret Tater issued is revoked at once and labelled ``true_positive``, anything else is a
``false_positive``, and whatever fails verification changes nothing and is a 401.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from apikeys import services as key_services
from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key
from tests.leaks.conftest import ENDPOINT, SigningKey, alert, match

pytestmark = pytest.mark.django_db

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
LEAK_URL = "https://github.com/octo/app/blob/abc123/settings.py"


def post(api: Any, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return api.post(ENDPOINT, data=body, content_type="application/json", **(headers or {}))


def post_signed(api: Any, key: SigningKey, body: bytes, **kwargs: Any) -> Any:
    return post(api, body, key.headers(body, **kwargs))


def key_status(api: Any, raw: str) -> tuple[int, str | None]:
    response = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    return response.status_code, response.json().get("error")


def revocations() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="api_key.revoked"))


def assert_nothing_changed(api: Any, world: dict[str, Any], mailoutbox: list[Any]) -> None:
    assert key_status(api, world["owner_raw"]) == (200, None)
    assert not ApiKey.objects.filter(revoked_at__isnull=False).exists()
    assert revocations() == []
    assert mailoutbox == []


class TestLeakedKeyIsRevoked:
    def test_live_key_revoked_owner_mailed_audited(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        raw, key = world["owner_raw"], world["owner_key"]
        body = alert(match(raw, url=LEAK_URL, source="content"))
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, body)

        assert response.status_code == 200, response.content
        assert response.json() == [{"token_raw": raw, "token_type": "tater_api_key", "label": "true_positive"}]
        # The very next request with the key is refused.
        assert key_status(api, raw) == (401, "KEY_REVOKED")

        key.refresh_from_db()
        assert key.revoked_at is not None
        (event,) = revocations()
        assert event.target_id == key.public_id
        assert event.channel == "system"
        assert event.actor_user_id is None
        assert event.changes["reason"] == "leaked"
        assert event.changes["url"] == LEAK_URL
        assert event.changes["source"] == "content"
        assert raw not in json.dumps(event.changes)

        (mail,) = mailoutbox
        assert mail.to == [world["owner"].email]
        assert key.name in mail.subject and "revoked" in mail.subject
        assert key.display_prefix in mail.body and LEAK_URL in mail.body
        assert "Create a new key" in mail.body
        assert raw not in mail.body and raw not in mail.subject

    def test_mail_leaves_only_after_commit(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = post_signed(api, signing_key, alert(match(world["owner_raw"])))
        assert response.status_code == 200
        assert mailoutbox == []
        for callback in callbacks:
            callback()
        assert len(mailoutbox) == 1

    @pytest.mark.parametrize("key_type", ["agent", "public", "unbound"])
    def test_every_key_type(self, api, world, github, signing_key, key_type, django_capture_on_commit_callbacks):
        if key_type == "unbound":
            key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide key")
        else:
            scopes = ["scans:read"] if key_type == "public" else None
            key, raw = make_key(
                user=world["owner"],
                tenant=world["tenant"],
                org=world["org1"],
                key_type=key_type,
                name=f"{key_type} key",
                **({"scopes": scopes} if scopes else {}),
            )
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, alert(match(raw)))
        assert response.json()[0]["label"] == "true_positive"
        key.refresh_from_db()
        assert key.revoked_at is not None

    def test_rotated_keys_previous_secret_in_grace_revokes_the_key(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        old_raw, key = world["owner_raw"], world["owner_key"]
        new_raw = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=3600).key
        assert key_status(api, old_raw) == (200, None)  # in its grace period
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, alert(match(old_raw)))
        assert response.json()[0]["label"] == "true_positive"
        assert key_status(api, old_raw)[0] == 401
        assert key_status(api, new_raw) == (401, "KEY_REVOKED")
        (event,) = revocations()
        assert event.changes["reason"] == "leaked" and event.changes["leaked_secret"] == "previous"
        assert len(mailoutbox) == 1

    def test_previous_secret_past_grace_is_real_but_leaves_the_key(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        old_raw, key = world["owner_raw"], world["owner_key"]
        new_raw = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0).key
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, alert(match(old_raw)))
        # A secret Tater issued (true positive); it no longer works, so nothing to revoke.
        assert response.json()[0]["label"] == "true_positive"
        assert key_status(api, new_raw) == (200, None)
        assert revocations() == []
        (mail,) = mailoutbox
        assert "no longer works" in mail.body and "revoked" not in mail.subject

    def test_already_revoked_key_is_a_true_positive_and_nothing_more(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        key_services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
        before = AuditEvent.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, alert(match(world["owner_raw"])))
        assert response.json()[0]["label"] == "true_positive"
        assert AuditEvent.objects.count() == before
        assert mailoutbox == []

    def test_unknown_and_foreign_tokens_are_false_positives(self, api, world, github, signing_key, mailoutbox):
        tokens = ["tater_" + "0" * 32, "tater_3fd88c926edd3a6f66a925de7df4cfe4", "ghp_notours", "", "x" * 5000]
        response = post_signed(api, signing_key, alert(*(match(t) for t in tokens)))
        assert response.status_code == 200
        assert [r["label"] for r in response.json()] == ["false_positive"] * len(tokens)
        assert [r["token_raw"] for r in response.json()] == tokens
        assert_nothing_changed(api, world, mailoutbox)

    def test_batch_keeps_order_and_revokes_each_key_once(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        body = alert(
            match("tater_" + "1" * 32, type="other"),
            match(world["member_raw"], url="https://github.com/a/b/issues/1", source="issue_comment"),
            match(world["owner_raw"]),
            match(world["member_raw"], url="https://gist.github.com/x", source="gist_content"),
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, signing_key, body)
        assert [(r["token_type"], r["label"]) for r in response.json()] == [
            ("other", "false_positive"),
            ("tater_api_key", "true_positive"),
            ("tater_api_key", "true_positive"),
            ("tater_api_key", "true_positive"),
        ]
        assert sorted(e.target_id for e in revocations()) == sorted(
            [world["member_key"].public_id, world["owner_key"].public_id]
        )
        assert sorted(m.to[0] for m in mailoutbox) == sorted([world["member"].email, world["owner"].email])
        # The other tenant's key is untouched.
        assert key_status(api, world["other_raw"]) == (200, None)

    def test_needs_no_key_no_session_and_no_csrf_token(
        self, world, github, signing_key, django_capture_on_commit_callbacks
    ):
        body = alert(match(world["owner_raw"]))
        with django_capture_on_commit_callbacks(execute=True):
            response = Client(enforce_csrf_checks=True).post(
                ENDPOINT, data=body, content_type="application/json", **signing_key.headers(body)
            )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json")

    def test_served_without_the_trailing_slash_too(self, api, world, github, signing_key):
        body = alert(match("tater_" + "2" * 32))
        response = api.post(
            ENDPOINT.rstrip("/"), data=body, content_type="application/json", **signing_key.headers(body)
        )
        assert response.status_code == 200


class TestRefusedSignatures:
    """Each refusal is a 401 in the catalog format and changes nothing."""

    def assert_refused(self, response: Any) -> None:
        assert response.status_code == 401, response.content
        body = response.json()
        assert body["error"] == "UNAUTHORIZED" and body["message"]

    def test_forged_signature(self, api, world, github, signing_key, mailoutbox):
        forger = SigningKey.new()
        body = alert(match(world["owner_raw"]))
        # Signed with another key but naming GitHub's key identifier.
        self.assert_refused(post_signed(api, forger, body, identifier=signing_key.identifier))
        assert_nothing_changed(api, world, mailoutbox)

    def test_unknown_key_identifier(self, api, world, github, mailoutbox):
        forger = SigningKey.new()
        self.assert_refused(post_signed(api, forger, alert(match(world["owner_raw"]))))
        assert_nothing_changed(api, world, mailoutbox)

    @pytest.mark.parametrize("drop", ["HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER", "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE", "both"])
    def test_missing_headers(self, api, world, github, signing_key, mailoutbox, drop):
        body = alert(match(world["owner_raw"]))
        headers = signing_key.headers(body)
        for name in list(headers):
            if drop in (name, "both"):
                del headers[name]
        self.assert_refused(post(api, body, headers))
        assert_nothing_changed(api, world, mailoutbox)

    def test_tampered_body(self, api, world, github, signing_key, mailoutbox):
        signed = alert(match("tater_" + "3" * 32))
        tampered = alert(match(world["owner_raw"]))
        self.assert_refused(post(api, tampered, signing_key.headers(signed)))
        # Whitespace alone is tampering too: the signature covers the raw bytes.
        body = alert(match(world["owner_raw"]))
        self.assert_refused(post(api, body + b" ", signing_key.headers(body)))
        assert_nothing_changed(api, world, mailoutbox)

    @pytest.mark.parametrize(
        "signature",
        [
            "",
            "not base64!",
            base64.b64encode(b"\x30\x02\x01").decode(),
            base64.b64encode(b"x" * 70).decode(),
            "QQ==" * 200,
        ],
    )
    def test_garbage_signatures(self, api, world, github, signing_key, mailoutbox, signature):
        body = alert(match(world["owner_raw"]))
        headers = {
            "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": signing_key.identifier,
            "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": signature,
        }
        self.assert_refused(post(api, body, headers))
        assert_nothing_changed(api, world, mailoutbox)
        # Refused from its shape alone: junk (a fuzzer, a scanner) never reaches GitHub.
        assert github.fetches == 0

    def test_signature_checked_before_the_body_is_parsed(self, api, world, github, signing_key):
        # A malformed body with a bad signature is a 401, not a 400 naming the JSON error.
        self.assert_refused(
            post(
                api,
                b"[{not json",
                {
                    "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER": signing_key.identifier,
                    "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE": signing_key.sign(b"[]"),
                },
            )
        )

    def test_key_of_another_curve_is_not_trusted(self, api, world, github, mailoutbox):
        other_curve = SigningKey.new(ec.SECP384R1())
        github.published.append(other_curve)
        self.assert_refused(post_signed(api, other_curve, alert(match(world["owner_raw"]))))
        assert_nothing_changed(api, world, mailoutbox)

    def test_replay_acts_once(self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks):
        # The same body again (GitHub's retry, or a captured request) is answered with its
        # labels and does nothing again (tests/leaks/test_review_s37_replay_answers.py).
        body = alert(match(world["owner_raw"]))
        headers = signing_key.headers(body)
        with django_capture_on_commit_callbacks(execute=True):
            assert post(api, body, headers).status_code == 200
            assert post(api, body, headers).status_code == 200
        assert len(revocations()) == 1 and len(mailoutbox) == 1

    def test_replay_window_expires(self, api, world, github, signing_key, settings):
        settings.TATER_GITHUB_SECRET_SCANNING_REPLAY_SECONDS = 1
        body = alert(match("tater_" + "5" * 32))
        assert post_signed(api, signing_key, body).status_code == 200
        time.sleep(1.2)
        assert post_signed(api, signing_key, body).status_code == 200

    def test_cache_outage_is_503_not_a_replay(self, api, world, github, signing_key, mailoutbox, monkeypatch):
        # A failing-soft cache (Redis down) neither adds nor reads: without a replay record
        # the alert is refused for now (GitHub retries), neither called a replay nor acted on.
        from django.core.cache import caches

        backend = caches["default"]
        monkeypatch.setattr(backend, "add", lambda *args, **kwargs: False)
        monkeypatch.setattr(backend, "get", lambda key, default=None, **kwargs: default)
        monkeypatch.setattr(backend, "set", lambda *args, **kwargs: False)
        response = post_signed(api, signing_key, alert(match(world["owner_raw"])))
        assert response.status_code == 503
        assert response.json()["error"] == "SERVICE_UNAVAILABLE"
        monkeypatch.undo()
        assert_nothing_changed(api, world, mailoutbox)

    def test_a_failed_batch_can_be_sent_again(self, api, world, github, signing_key):
        def boom(**kwargs: Any) -> Any:
            raise RuntimeError("database went away")

        body = alert(match("tater_" + "6" * 32))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("leaks.api.views.leaked_keys_revoke", boom)
            failed = Client(raise_request_exception=False).post(
                ENDPOINT, data=body, content_type="application/json", **signing_key.headers(body)
            )
        assert failed.status_code == 500
        assert failed.json()["error"] == "INTERNAL_ERROR"
        assert post_signed(api, signing_key, body).status_code == 200  # GitHub's retry is not a "replay"


class TestGitHubKeys:
    def test_keys_are_fetched_once_and_cached(self, api, github, signing_key):
        for n in range(3):
            assert post_signed(api, signing_key, alert(match(f"tater_{n:032x}"))).status_code == 200
        assert github.fetches == 1

    def test_rotation_unknown_identifier_refreshes(
        self, api, world, github, signing_key, mailoutbox, django_capture_on_commit_callbacks
    ):
        assert post_signed(api, signing_key, alert(match("tater_" + "7" * 32))).status_code == 200
        rotated = SigningKey.new()
        github.published = [signing_key, rotated]
        with django_capture_on_commit_callbacks(execute=True):
            response = post_signed(api, rotated, alert(match(world["owner_raw"])))
        assert response.status_code == 200
        assert response.json()[0]["label"] == "true_positive"
        assert github.fetches == 2

    def test_withdrawn_key_stops_verifying_after_refresh(self, api, github, signing_key, settings):
        settings.TATER_GITHUB_SECRET_SCANNING_KEYS_CACHE_SECONDS = 1
        assert post_signed(api, signing_key, alert(match("tater_" + "8" * 32))).status_code == 200
        github.published = [SigningKey.new()]
        time.sleep(1.2)  # the cached copy's lifetime is over
        response = post_signed(api, signing_key, alert(match("tater_" + "9" * 32)))
        assert response.status_code == 401

    def test_forged_identifiers_refresh_at_most_once_per_cooldown(self, api, github, signing_key):
        assert post_signed(api, signing_key, alert(match("tater_" + "a" * 32))).status_code == 200
        for _ in range(10):
            forger = SigningKey.new()
            assert post_signed(api, forger, alert(match("tater_" + "b" * 32))).status_code == 401
        assert github.fetches == 2  # the first fetch and one refresh

    def test_keys_unreachable_is_503_and_retried_later(self, api, world, github, signing_key, settings, mailoutbox):
        settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL = "http://127.0.0.1:9/unreachable"
        response = post_signed(api, signing_key, alert(match(world["owner_raw"])))
        assert response.status_code == 503
        assert response.json()["error"] == "SERVICE_UNAVAILABLE"
        assert_nothing_changed(api, world, mailoutbox)

    def test_slow_key_server_times_out(self, api, world, github, signing_key, settings, mailoutbox):
        settings.TATER_GITHUB_SECRET_SCANNING_FETCH_TIMEOUT = 0.3
        github.delay = 2.0
        response = post_signed(api, signing_key, alert(match(world["owner_raw"])))
        assert response.status_code == 503
        assert_nothing_changed(api, world, mailoutbox)

    @pytest.mark.parametrize("raw", [b"not json", b"{}", b'{"public_keys": [{"key_identifier": "x", "key": "junk"}]}'])
    def test_unusable_key_document_is_503(self, api, github, signing_key, raw):
        github.raw = raw
        assert post_signed(api, signing_key, alert(match("tater_" + "c" * 32))).status_code == 503

    def test_error_status_from_key_server_is_503(self, api, github, signing_key):
        github.status = 500
        assert post_signed(api, signing_key, alert(match("tater_" + "d" * 32))).status_code == 503

    def test_non_http_keys_url_is_refused(self, api, github, signing_key, settings):
        settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL = "file:///etc/passwd"
        assert post_signed(api, signing_key, alert(match("tater_" + "e" * 32))).status_code == 503


class TestBodyAndLimits:
    @pytest.mark.parametrize("body", [b"{}", b'"text"', b'[{"type": "x"}]', b"[1]", b"[{not json"])
    def test_signed_but_malformed_body_is_400(self, api, github, signing_key, body):
        response = post_signed(api, signing_key, body)
        assert response.status_code == 400
        assert response.json()["error"] == "VALIDATION_ERROR"

    def test_empty_batch(self, api, github, signing_key):
        response = post_signed(api, signing_key, b"[]")
        assert response.status_code == 200 and response.json() == []

    def test_fields_github_may_add_are_ignored(
        self, api, world, github, signing_key, django_capture_on_commit_callbacks
    ):
        body = alert(dict(match(world["owner_raw"]), new_field="x"))
        with django_capture_on_commit_callbacks(execute=True):
            assert post_signed(api, signing_key, body).json()[0]["label"] == "true_positive"

    def test_body_size_limit(self, api, github, signing_key, settings):
        settings.TATER_MAX_UPLOAD_BYTES = 200
        body = alert(*(match("tater_" + "f" * 32) for _ in range(5)))
        assert len(body) > 200
        response = post_signed(api, signing_key, body)
        assert response.status_code == 413
        assert response.json()["error"] == "PAYLOAD_TOO_LARGE"
        assert github.fetches == 0  # refused unread

    def test_rate_limited_per_caller_before_the_signature_check(self, api, github, signing_key, settings):
        settings.TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS = (3, 100)
        answers = [post(api, alert(match("tater_" + "0" * 32)), {}) for _ in range(4)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429]
        # Every answer says where the caller stands (SPEC §6), the refusals included.
        assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        assert {a["X-RateLimit-Limit"] for a in answers} == {"3"}
        response = post_signed(api, signing_key, alert(match("tater_" + "1" * 32)))
        assert response.status_code == 429
        assert response.json()["error"] == "RATE_LIMITED" and response["Retry-After"]

    def test_an_ipv6_caller_is_limited_per_64_like_every_address_limit(self, api, github, settings):
        # A client holds its whole /64: a fresh address of it per request is the same caller
        # (tater.lockout.client_bucket), as for the lockout and the sign-in limits.
        settings.TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS = (3, 100)
        codes = [
            post(api, alert(match("tater_" + "0" * 32)), {"REMOTE_ADDR": f"2001:db8:1:2::{n + 1:x}"}).status_code
            for n in range(4)
        ]
        assert codes == [401, 401, 401, 429]

    def test_get_is_not_allowed(self, api, github):
        response = api.get(ENDPOINT)
        assert response.status_code == 405
        assert response.json()["error"] == "METHOD_NOT_ALLOWED"


@pytest.mark.django_db(transaction=True)
def test_end_to_end_through_a_live_server(live_server, github, signing_key, mailoutbox):
    from tests.factories import make_tenant

    tenant, owner, (org,) = make_tenant(name="Live", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci deploy key")
    body = alert(match(raw))
    headers = {
        "Content-Type": "application/json",
        "Github-Public-Key-Identifier": signing_key.identifier,
        "Github-Public-Key-Signature": signing_key.sign(body),
    }
    request = urllib.request.Request(live_server.url + ENDPOINT, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the test's own server
        answer = json.loads(response.read())
    assert answer == [{"token_raw": raw, "token_type": "tater_api_key", "label": "true_positive"}]
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert len(mailoutbox) == 1  # a real commit ran the on-commit mail
    probe = urllib.request.Request(live_server.url + "/api/v1/auth/validate", headers={"X-API-Key": raw})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(probe, timeout=10)  # noqa: S310
    assert json.loads(refused.value.read())["error"] == "KEY_REVOKED"


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
def test_racing_alerts_revoke_and_mail_once(github, signing_key, mailoutbox):
    """Two alerts naming one key at the same moment (different bodies, so no replay):
    the row lock lets one revoke and mail; the other finds the key revoked."""
    from django.db import connection

    from leaks.services import LeakReport, leaked_keys_revoke
    from tests.factories import make_tenant

    tenant, owner, (org,) = make_tenant(name="Race", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="raced key")
    barrier = threading.Barrier(4)
    results: list[list[bool]] = []

    def report(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(leaked_keys_revoke(reports=[LeakReport(token=raw, url=f"https://x/{n}")], found_by="github"))
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == [[True]] * 4
    assert AuditEvent.objects.filter(action="api_key.revoked", target_id=key.public_id).count() == 1
    assert len(mailoutbox) == 1
