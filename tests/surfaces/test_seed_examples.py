"""Each seed document's examples, replayed against a live server with only the host changed
(and the placeholders an integrator fills in: their key, ids, email and password).

The examples are copied verbatim from the five seed documents (../shared/seeds/: TATER 000,
Tatry 001, TigerTrust 002, Taffy 003, taap.it 004) so this file does not depend on them at
run time; curl examples run through bash, Python examples in a fresh interpreter (the
Tatry one with the published ``tatry`` SDK), the PowerShell one is checked as text.
Where a replay adds a curl flag (``-sS``, ``-D``) it is only to observe the answer."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
from allauth.socialaccount.models import SocialApp
from django.test import override_settings
from django.urls import reverse

from scans.api.views import PAYLOAD_EXAMPLE
from scans.models import Scan
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed"),
]

# --- TATER (seed 000) ------------------------------------------------------------------------
TATER_HOST = "https://api.tatersecurity.com"
TATER_KEY = "tater_3fd88c926edd3a6f66a925de7df4cfe4"
TATER_CURL = """curl -X POST "https://api.tatersecurity.com/api/scans/upload?tenantId=$TENANT_ID&organizationId=$ORG_ID" \\
  -H "X-API-Key: tater_3fd88c926edd3a6f66a925de7df4cfe4" \\
  -H "Content-Type: application/json" \\
  --data @scan-payload.json"""
TATER_POWERSHELL = """$apiKey = 'tater_3fd88c926edd3a6f66a925de7df4cfe4'
$tenantId = '00000000-0000-0000-0000-000000000000'
$orgId = 'org-9c305e0e-cf02-4028-8ef1-edead8fdaee5'
$headers = @{
    'X-API-Key'    = $apiKey
    'Content-Type' = 'application/json'
}
$body = Get-Content -Raw scan-payload.json
$uri = "https://api.tatersecurity.com/api/scans/upload?tenantId=$tenantId&organizationId=$orgId"
$response = Invoke-WebRequest -Uri $uri -Method POST -Headers $headers -Body $body
$response.Content | ConvertFrom-Json"""
TATER_PYTHON = """import requests, json

api_key   = 'tater_3fd88c926edd3a6f66a925de7df4cfe4'
tenant_id = '00000000-0000-0000-0000-000000000000'
org_id    = 'org-9c305e0e-cf02-4028-8ef1-edead8fdaee5'

with open('scan-payload.json') as f:
    payload = json.load(f)

r = requests.post(
    'https://api.tatersecurity.com/api/scans/upload',
    params  = {'tenantId': tenant_id, 'organizationId': org_id},
    headers = {'X-API-Key': api_key},
    json    = payload,
    timeout = 60,
)
r.raise_for_status()
print(r.json())"""
TATER_TENANT, TATER_ORG = "00000000-0000-0000-0000-000000000000", "org-9c305e0e-cf02-4028-8ef1-edead8fdaee5"

# --- Tatry (seed 001) ----------------------------------------------------------------------
TATRY_HOST = "https://api.tatry.dev"
TATRY_CURL_VALIDATE = """curl -H "Authorization: Bearer YOUR_API_KEY" \\
-X GET https://api.tatry.dev/v1/auth/validate"""
TATRY_PYTHON_VALIDATE = """from tatry import TatryRetriever
# Initialize the client with your API key
client = TatryRetriever(api_key="your-api-key")
# Validate your API key
is_valid = client.validate_api_key()"""
TATRY_CURL_KEYS = """curl -H "Authorization: Bearer YOUR_API_KEY" \\
https://api.tatry.dev/v1/auth/keys"""
TATRY_PYTHON_KEYS = """from tatry import TatryRetriever
# Initialize the client with your API key
client = TatryRetriever(api_key="your-api-key")
# List all API keys with query parameters
keys = client.list_api_keys(
status="active", # Filter by key status
limit=10, # Maximum number of keys to return
offset=0 # Pagination offset
)"""

# --- TigerTrust (seed 002) -----------------------------------------------------------------
TIGERTRUST_HOST = "https://api.tigertrust.io"
TT_CURL_AGENT_HEADER = """curl -X GET "https://api.tigertrust.io/api/certificates" \\
  -H "X-Agent-API-Key: ak_your_api_key_here\""""
TT_CURL_BEARER = """curl -X GET "https://api.tigertrust.io/api/certificates" \\
  -H "Authorization: Bearer ak_your_api_key_here\""""
TT_CURL_WORKSPACE = """curl -X GET "https://api.tigertrust.io/api/certificates" \\
  -H "X-Agent-API-Key: ak_your_api_key_here" \\
  -H "X-Workspace-ID: ws_123456\""""
TT_CURL_LOGIN = """# Login
curl -X POST "https://api.tigertrust.io/api/auth/login" \\
  -H "Content-Type: application/json" \\
  -d '{"email": "[email protected]", "password": "your_password"}'"""

# --- Taffy (seed 003): prose only; the exchange and the headers it names -------------------
# --- taap.it (seed 004) ----------------------------------------------------------------------
TAAPIT_HOST = "https://api.taap.it"
TAAPIT_KEY = "taapit_abc123def456ghi789"
TAAPIT_CURL = """curl -X GET 'https://api.taap.it/v1/workspaces' \\
  -H 'Authorization: Bearer taapit_abc123def456ghi789' \\
  -H 'Content-Type: application/json'"""


def replace(text: str, **values: str) -> str:
    for old, new in values.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def bash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        ["bash", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,  # noqa: S607
    )


def python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)  # noqa: S603


def curl_json(script: str, cwd: Path, **env: str) -> Any:
    done = bash(script, cwd, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- TATER ---------------------------------------------------------------------------------


def _tater(text: str, live_server: Any, world: dict[str, Any]) -> str:
    return replace(text, **{TATER_HOST: live_server.url, TATER_KEY: world["owner_raw"]})


def test_tater_curl_uploads_a_scan(live_server, world, tmp_path):
    (tmp_path / "scan-payload.json").write_text(json.dumps(PAYLOAD_EXAMPLE))
    body = curl_json(
        _tater(TATER_CURL, live_server, world),
        tmp_path,
        TENANT_ID=world["tenant"].public_id,
        ORG_ID=world["org1"].public_id,
    )
    assert body["id"] == Scan.objects.get().public_id


def test_tater_python_uploads_a_scan(live_server, world, tmp_path):
    (tmp_path / "scan-payload.json").write_text(json.dumps(PAYLOAD_EXAMPLE))
    code = replace(
        _tater(TATER_PYTHON, live_server, world),
        **{TATER_TENANT: world["tenant"].public_id, TATER_ORG: world["org1"].public_id},
    )
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert Scan.objects.get().public_id in done.stdout


def test_tater_powershell_as_text(live_server, world):
    script = _tater(TATER_POWERSHELL, live_server, world)
    assert f'$uri = "{live_server.url}/api/scans/upload?tenantId=$tenantId&organizationId=$orgId"' in script
    assert "'X-API-Key'    = $apiKey" in script and "-Method POST" in script
    # The same request as PowerShell would send it, to be sure the URI and header work.
    r = requests.post(
        f"{live_server.url}/api/scans/upload",
        params={"tenantId": world["tenant"].public_id, "organizationId": world["org1"].public_id},
        headers={"X-API-Key": world["owner_raw"], "Content-Type": "application/json"},
        data=json.dumps(PAYLOAD_EXAMPLE),
        timeout=60,
    )
    assert r.status_code == 201, r.text


def test_tater_common_errors_as_documented(live_server, world, tmp_path):
    validate = f"{live_server.url}/api/v1/auth/validate"
    missing = curl_json(f'curl -sS "{validate}"', tmp_path)
    assert (missing["error"], missing["message"]) == ("UNAUTHORIZED", "Missing API key")
    bearer = curl_json(f'curl -sS "{validate}" -H "Authorization: Bearer {TATER_KEY}"', tmp_path)
    assert bearer["message"] == "Invalid authorization header format"
    unknown = curl_json(f'curl -sS "{validate}" -H "X-API-Key: {TATER_KEY}"', tmp_path)
    assert unknown["message"] == "Invalid token"


# --- Tatry ----------------------------------------------------------------------------------


def _tatry(text: str, live_server: Any, key: str) -> str:
    for placeholder in ("YOUR_API_KEY", '"your-api-key"'):
        if placeholder in text:
            text = text.replace(placeholder, key if placeholder == "YOUR_API_KEY" else f'"{key}"')
    return text.replace(TATRY_HOST, live_server.url)


def test_tatry_curl_validate(live_server, world, tmp_path):
    body = curl_json(_tatry(TATRY_CURL_VALIDATE, live_server, world["owner_raw"]), tmp_path)
    assert body["status"] == "success" and body["data"]["valid"] is True


def test_tatry_request_example_path(live_server, world):
    # The document's "Request" block: GET /v1/validate with these headers.
    r = requests.get(
        f"{live_server.url}/v1/validate",
        headers={"Authorization": f"Bearer {world['owner_raw']}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["data"]["valid"] is True


def test_tatry_python_sdk_validates_with_only_the_base_url_changed(live_server, world, tmp_path):
    code = _tatry(TATRY_PYTHON_VALIDATE, live_server, world["owner_raw"])
    code = replace(
        code,
        **{
            f'TatryRetriever(api_key="{world["owner_raw"]}")': f'TatryRetriever(api_key="{world["owner_raw"]}", base_url="{live_server.url}")'
        },
    )
    done = python(code + "\nprint(is_valid.model_dump_json())", tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success" and result["data"]["valid"] is True
    assert result["data"]["organization_id"] == world["org1"].public_id
    assert result["data"]["rate_limits"] == {"requests_per_minute": 60, "requests_per_hour": 1000}


def test_tatry_sdk_raises_its_own_auth_error_for_a_bad_key(live_server, world):
    from tatry import RetrieverAuthError, TatryRetriever
    from tatry.retrievers.tatry.client import TatryClient

    client = TatryRetriever(api_key="tater_" + "0" * 32, base_url=live_server.url)
    # The SDK retries (tenacity) three times with 4-10 s waits; skip the waiting only.
    with (
        mock.patch.object(TatryClient._request.retry, "sleep", lambda seconds: None),
        pytest.raises(RetrieverAuthError) as refused,
    ):
        client.validate_api_key()
    assert refused.value.status_code == 401
    assert refused.value.response.json()["error"]["code"] == "auth_invalid_key"
    ok = TatryRetriever(api_key=world["owner_raw"], base_url=live_server.url).validate_api_key()
    assert ok.data.valid and ok.data.organization_id == world["org1"].public_id


def test_tatry_curl_list_keys(live_server, world, tmp_path):
    body = curl_json(_tatry(TATRY_CURL_KEYS, live_server, world["owner_raw"]), tmp_path)
    assert body["status"] == "success"
    assert [k["id"] for k in body["data"]["keys"]] == [world["owner_key"].public_id] and body["data"]["total"] == 1


def test_tatry_python_list_keys_is_the_documented_http_call(live_server, world):
    """The published SDK (1.1.2) has no ``list_api_keys``, whatever the host: the call the
    document describes is replayed over HTTP and parsed with the SDK's own response model."""
    from tatry import TatryRetriever
    from tatry.models.auth import ListKeysResponse

    assert "client.list_api_keys(" in TATRY_PYTHON_KEYS
    assert not hasattr(TatryRetriever, "list_api_keys"), "the SDK gained list_api_keys: replay the example itself"
    headers = {"Authorization": f"Bearer {world['owner_raw']}"}
    requests.get(f"{live_server.url}/v1/auth/validate", headers=headers, timeout=30)  # the key has been used
    r = requests.get(
        f"{live_server.url}/v1/auth/keys",
        params={"status": "active", "limit": 10, "offset": 0},
        headers=headers,
        timeout=30,
    )
    parsed = ListKeysResponse.model_validate(r.json())
    assert parsed.status == "success" and [k.id for k in parsed.data.keys] == [world["owner_key"].public_id]


# --- TigerTrust -----------------------------------------------------------------------------


def test_tigertrust_login_curl(live_server, world, tmp_path):
    script = replace(
        TT_CURL_LOGIN,
        **{TIGERTRUST_HOST: live_server.url, "[email protected]": world["owner"].email, "your_password": PASSWORD},
    )
    done = bash(script.replace("curl -X POST", "curl -sS -D headers.txt -X POST"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["requires2FA"] is False
    cookie = re.search(
        r"^set-cookie:\s*sessionid=.*$", (tmp_path / "headers.txt").read_text(), re.IGNORECASE | re.MULTILINE
    )
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Strict" in cookie[0]


def test_tigertrust_two_factor_flow(live_server, world, tmp_path, clock):
    device, _ = enrol(world["owner"], clock.now)
    clock.advance(30)
    login = replace(
        TT_CURL_LOGIN,
        **{TIGERTRUST_HOST: live_server.url, "[email protected]": world["owner"].email, "your_password": PASSWORD},
    )
    first = curl_json(login, tmp_path)
    assert first["requires2FA"] is True
    body = json.dumps({"token": first["token"], "code": totp_code(device, clock.now)})
    verify = (
        f'curl -sS -X POST "{live_server.url}/api/auth/verify-2fa" -H "Content-Type: application/json" -d \'{body}\''
    )
    assert curl_json(verify, tmp_path)["requires2FA"] is False


def test_tigertrust_google_flow(live_server, tmp_path):
    assert (
        requests.get(f"{live_server.url}/api/auth/google", allow_redirects=False, timeout=30).json()["error"]
        == "NOT_FOUND"
    )
    SocialApp.objects.create(provider="google", name="Google", client_id="cid.apps.googleusercontent.com", secret="s")
    start = requests.get(f"{live_server.url}/api/auth/google", allow_redirects=False, timeout=30)
    assert start.status_code == 302 and start.headers["Location"] == reverse("google_login")
    back = requests.get(f"{live_server.url}/api/auth/google/callback?code=c&state=s", allow_redirects=False, timeout=30)
    assert back.status_code == 302 and back.headers["Location"].startswith(reverse("google_callback"))


def test_tigertrust_key_headers(live_server, world, tmp_path):
    """``/api/certificates`` is TigerTrust's own resource, not Tater's: replayed with the
    host changed it is a JSON 404. The header conventions it shows work on Tater's API."""
    agent, agent_raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent", scopes=["scans:write"]
    )
    host = {TIGERTRUST_HOST: live_server.url, "ak_your_api_key_here": agent_raw}
    assert curl_json(replace(TT_CURL_AGENT_HEADER, **host), tmp_path)["error"] == "NOT_FOUND"
    on_tater = {**host, "/api/certificates": "/api/v1/auth/validate"}
    assert curl_json(replace(TT_CURL_AGENT_HEADER, **on_tater), tmp_path)["id"] == agent.public_id
    workspace = curl_json(replace(TT_CURL_WORKSPACE, **on_tater, ws_123456=world["org1"].public_id), tmp_path)
    assert workspace["organization_id"] == world["org1"].public_id
    foreign = curl_json(replace(TT_CURL_WORKSPACE, **on_tater, ws_123456=world["org2"].public_id), tmp_path)
    assert foreign["error"] == "WORKSPACE_ACCESS_DENIED"
    # Bearer keys on /api/v1/ only where the deployment admits them (SPEC §3).
    assert curl_json(replace(TT_CURL_BEARER, **on_tater), tmp_path)["message"] == "Invalid authorization header format"
    with override_settings(TATER_ALLOW_BEARER_KEYS=True):
        assert curl_json(replace(TT_CURL_BEARER, **on_tater), tmp_path)["id"] == agent.public_id


# --- Taffy ----------------------------------------------------------------------------------


def test_taffy_exchange_then_the_headers_it_names(live_server, world, tmp_path):
    body = json.dumps(
        {"username": world["owner"].email, "password": PASSWORD, "organizationId": world["org1"].public_id}
    )
    exchanged = curl_json(
        f'curl -sS -X POST "{live_server.url}/auth/token" -H "Content-Type: application/json" -d \'{body}\'', tmp_path
    )
    assert exchanged["errors"] == []
    headers = " ".join(f'-H "{name}: {value}"' for name, value in exchanged["data"]["headers"].items())
    validated = curl_json(f'curl -sS "{live_server.url}/api/v1/auth/validate" {headers}', tmp_path)
    assert validated["id"] == exchanged["data"]["id"]


# --- taap.it --------------------------------------------------------------------------------


def test_taapit_curl(live_server, world, tmp_path):
    # Verbatim but for the host: the document's own key is not a key, and its error comes back.
    assert curl_json(replace(TAAPIT_CURL, **{TAAPIT_HOST: live_server.url}), tmp_path) == {"detail": "Invalid API key"}
    with override_settings(TATER_KEY_PREFIXES={"standard": "taapit_", "agent": "ak_", "public": "ck_"}):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="taap.it")
    assert raw.startswith("taapit_")
    workspaces = curl_json(replace(TAAPIT_CURL, **{TAAPIT_HOST: live_server.url, TAAPIT_KEY: raw}), tmp_path)
    assert [w["id"] for w in workspaces] == [world["org1"].public_id]
