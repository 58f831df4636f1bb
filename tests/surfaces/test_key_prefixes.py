"""Key prefixes per deployment (SPEC §2): ``TATER_KEY_PREFIX_STANDARD`` / ``_AGENT`` /
``_PUBLIC`` (taap.it's ``taapit_``, say), and every key keeps working after a change."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of

TAAPIT = {"standard": "taapit_", "agent": "ak_", "public": "ck_"}


@pytest.mark.django_db
def test_keys_issued_under_any_prefix_keep_working(api, world):
    old_raw = world["owner_raw"]
    assert old_raw.startswith("tater_")
    with override_settings(TATER_KEY_PREFIXES=TAAPIT):
        key, new_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="taap.it")
        assert new_raw.startswith("taapit_") and len(new_raw) == len("taapit_") + 32
        assert key.display_prefix == new_raw[: len("taapit_") + 4]
        # The old key, the new one, on the core and on the seed paths.
        assert json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=old_raw), 200)["valid"] is True
        assert json_of(api.get("/v1/workspaces", **bearer(new_raw)), 200)[0]["id"] == world["org1"].public_id
        agent, agent_raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent", scopes=["scans:write"]
        )
        assert agent_raw.startswith("ak_")
    # Back to the defaults (or on to another prefix): the taapit_ key still works.
    with override_settings(TATER_KEY_PREFIXES={"standard": "acme-", "agent": "acme-agent-", "public": "acme-pub-"}):
        assert json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=new_raw), 200)["id"] == key.public_id
        assert json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=old_raw), 200)["valid"] is True
        _, acme_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="acme")
        assert acme_raw.startswith("acme-")
        assert json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=acme_raw), 200)["valid"] is True
    assert json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=acme_raw), 200)["valid"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value",
    [
        "taapit_zz",
        "taapit_" + "A" * 32,
        "taapit_" + "0" * 33 + "z",
        "_x" + "0" * 32,
        "x" * 17 + "0" * 32,
        "tater_" + "0" * 32,
    ],
)
def test_malformed_or_unknown_keys_are_still_invalid_token(api, value):
    body = json_of(api.get("/api/v1/auth/validate", HTTP_X_API_KEY=value), 401)
    assert (body["error"], body["message"]) == ("UNAUTHORIZED", "Invalid token")


def _settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = "from tater import settings; print(sorted(settings.TATER_KEY_PREFIXES.items()))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=settings.BASE_DIR,
    )


def test_prefixes_come_from_the_environment():
    done = _settings_in_a_fresh_process(TATER_KEY_PREFIX_STANDARD="taapit_", TATER_KEY_PREFIX_AGENT="tt-agent_")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('agent', 'tt-agent_'), ('public', 'ck_'), ('standard', 'taapit_')]"


@pytest.mark.parametrize("value", ["", "tater.", "9lives_", "x" * 17, "ta ter_"])
def test_a_prefix_no_key_could_be_recognised_by_is_refused_at_startup(value):
    done = _settings_in_a_fresh_process(TATER_KEY_PREFIX_PUBLIC=value)
    assert done.returncode != 0 and "TATER_KEY_PREFIX_PUBLIC" in done.stderr
