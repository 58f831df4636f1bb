"""The client: one ``httpx.Client`` per :class:`Tater`, retries, errors, and the resources."""

from __future__ import annotations

import ipaddress
import json as json_module
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import httpx

from tater_client.audit import AuditLogAPI
from tater_client.errors import (
    RateLimitInfo,
    TaterError,
    TransportError,
    answer_refused,
    error_from_response,
    redirect_error,
)
from tater_client.me_models import Me
from tater_client.models import IssuedKey, KeyInfo, parse
from tater_client.orgs import MembersAPI, OrganizationsAPI
from tater_client.params import ParamValue, TimeLike, __version__, iso, query
from tater_client.resources import KeysAPI, ScansAPI
from tater_client.retry import IDEMPOTENT_METHODS, RetryPolicy, retryable_status, server_wait
from tater_client.scim_tokens import ScimTokensAPI

DEFAULT_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request left: the only ones after which a POST may be sent again
(after a read timeout or a dropped connection the server may have minted the key)."""
MAX_RESPONSE_BODY = 32 << 20
"""The default bound on a successful answer read whole (``Tater(max_response_bytes=...)``):
Tater's largest pages are a few MB; a server answering gigabytes (broken, hostile, a proxy)
is a ``RESPONSE_TOO_LARGE`` error, not an exhausted memory. Streamed exports are not bound."""
MAX_ERROR_BODY = 1 << 20
"""Catalog error bodies are a few hundred bytes: a larger one (a broken or hostile server)
is not read on, so it cannot fill the caller's memory."""


def _transport_error(exc: httpx.TransportError, base_url: str) -> TransportError:
    """No usable answer, naming the server (which TATER_URL the caller had in effect)."""
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"Timed out waiting for {base_url}: {exc}", code="TIMEOUT")
    return TransportError(f"Connection to {base_url} failed: {exc}", code="CONNECTION_ERROR")


def _undecodable(exc: httpx.DecodingError) -> TaterError:
    return TaterError(f"The answer does not decode as its Content-Encoding says: {exc}", code="INVALID_RESPONSE")


def _chunks(response: httpx.Response, deadline: float | None) -> Iterator[bytes]:
    """The body's chunks; past ``deadline`` a ``TIMEOUT``. httpx times each read alone, so a
    server trickling a byte per read would otherwise hold the caller forever."""
    for chunk in response.iter_bytes():
        if deadline is not None and time.monotonic() > deadline:
            raise TransportError("Timed out: the answer took longer than the timeout to arrive", code="TIMEOUT")
        yield chunk


def _read_error_body(response: httpx.Response, deadline: float | None) -> bytes:
    """The error body, or ``b""`` (no catalog body: the status still tells) once it passes
    :data:`MAX_ERROR_BODY`, its deadline, or the connection fails."""
    content = bytearray()
    try:
        for chunk in _chunks(response, deadline):
            content += chunk
            if len(content) > MAX_ERROR_BODY:
                return b""
    except (httpx.TransportError, httpx.DecodingError, TransportError):
        return b""
    return bytes(content)


def _read_bounded_body(response: httpx.Response, limit: int, base_url: str, deadline: float | None) -> bytes:
    """A successful answer's body, refused (``RESPONSE_TOO_LARGE``) past ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    content = bytearray()
    if not (declared.isdigit() and int(declared) > limit):
        try:
            for chunk in _chunks(response, deadline):
                content += chunk
                if len(content) > limit:
                    break
            else:
                return bytes(content)
        except httpx.TransportError as exc:
            raise _transport_error(exc, base_url) from exc
        except httpx.DecodingError as exc:
            raise _undecodable(exc) from exc
    raise answer_refused(
        response,
        f"The answer from {base_url} is larger than max_response_bytes ({limit} bytes): not read on",
        "RESPONSE_TOO_LARGE",
    )


def _is_loopback(url: str) -> bool:
    """The URL names this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    host = httpx.URL(url).host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _sends_key_in_the_clear(url: str) -> bool:
    """Plain ``http://`` to a host other than this machine (loopback needs no TLS)."""
    return httpx.URL(url).scheme == "http" and not _is_loopback(url)


def _server_url(base_url: str | None) -> str:
    """The server's URL from ``base_url``, ``$TATER_URL`` or the default, without ``/api/v1``;
    a ``ValueError`` for what names no server (said now, not as a CONNECTION_ERROR after
    every retry's backoff)."""
    url = (base_url or os.environ.get("TATER_URL") or DEFAULT_URL).strip().rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{url!r} is not a server URL ({exc}): check base_url or TATER_URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            f"{url!r} is not a server URL: give one such as https://tater.example.com (base_url or TATER_URL)"
        )
    if parsed.userinfo:
        raise ValueError(
            "The server URL carries a user name or password: the API key authenticates, drop them from base_url"
            " or TATER_URL"
        )
    return url


class Tater:
    """A Tater API client authenticated by one API key (sent as ``X-API-Key``).

    Args:
        api_key: the key; defaults to ``$TATER_API_KEY``.
        base_url: the server, e.g. ``https://tater.example.com``; defaults to
            ``$TATER_URL``, then ``http://127.0.0.1:8000``. A trailing ``/api/v1`` is accepted.
        organization_id: an org hint (``organizationId``) sent with every request, for an
            unbound (tenant-wide) key in a tenant with several orgs; each call can override it.
        timeout: seconds, or an ``httpx.Timeout`` (default 30 s, 5 s to connect); ``None``
            waits forever.
        retry: the :class:`RetryPolicy` (default: up to 3 attempts of idempotent calls,
            30 s of waiting at most). ``RetryPolicy.disabled()`` turns retries off.
        transport: an ``httpx`` transport (tests, proxies, custom TLS).
        allow_insecure_http: allow plain ``http://`` to a host other than this machine
            (default ``$TATER_ALLOW_INSECURE_HTTP``, else refused with ``ValueError``: the key
            would cross the network unencrypted). Loopback needs no permission.
        max_response_bytes: the largest successful answer read (default 32 MiB); a larger
            one raises ``TaterError`` ``RESPONSE_TOO_LARGE``. Streamed exports are not bound.

    Use it as a context manager, or call :meth:`close`, to release its connections::

        with Tater() as tater:
            print(tater.validate().permissions)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        organization_id: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        allow_insecure_http: bool | None = None,
        max_response_bytes: int = MAX_RESPONSE_BODY,
    ) -> None:
        api_key = (api_key or os.environ.get("TATER_API_KEY", "")).strip()
        if not api_key:
            raise ValueError("No API key: pass api_key= or set TATER_API_KEY")
        if not all("!" <= char <= "~" for char in api_key):
            # httpx would refuse the header with the whole value in its message (printed,
            # logged): say what is wrong without the key.
            raise ValueError(
                "The API key holds a character no key has (a space, a control character, a second line):"
                " check api_key= or TATER_API_KEY"
            )
        self._connect(
            {"X-API-Key": api_key},
            base_url=base_url,
            organization_id=organization_id,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            transport=transport,
            user_agent=user_agent,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=max_response_bytes,
            sent="the API key",
        )
        self.keys = KeysAPI(self)
        self.scans = ScansAPI(self)
        self.audit = AuditLogAPI(self)
        self.organizations = OrganizationsAPI(self)
        self.members = MembersAPI(self)
        self.scim_tokens = ScimTokensAPI(self)

    def _connect(
        self,
        headers: dict[str, str],
        *,
        base_url: str | None,
        organization_id: str | None,
        timeout: float | httpx.Timeout | None,
        retry: RetryPolicy,
        transport: httpx.BaseTransport | None,
        user_agent: str | None,
        allow_insecure_http: bool | None,
        max_response_bytes: int,
        sent: str,
    ) -> None:
        """The server checked (``sent``: the secret that goes to it, for the refusals) and
        the connection pool made; the resources are the caller's to add."""
        url = _server_url(base_url)
        if allow_insecure_http is None:
            allow_insecure_http = os.environ.get("TATER_ALLOW_INSECURE_HTTP", "").lower() in ("1", "true", "yes")
        if not allow_insecure_http and _sends_key_in_the_clear(url):
            raise ValueError(
                f"{url} is plain http:// to another machine: {sent} would cross the network unencrypted."
                " Use https://, or pass allow_insecure_http=True (TATER_ALLOW_INSECURE_HTTP=1) for a network you trust"
            )
        self.base_url = url
        self.organization_id = organization_id
        self.retry = retry
        self.max_response_bytes = max_response_bytes
        self.last_rate_limit: RateLimitInfo | None = None
        """The ``X-RateLimit-*`` headers of the last response that carried them."""
        self._sleep: Callable[[float], None] = time.sleep
        self._http = httpx.Client(
            base_url=url + API_PREFIX,
            headers={
                **headers,
                "Accept": "application/json",
                "User-Agent": user_agent or f"tater-client/{__version__} python-httpx/{httpx.__version__}",
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            # Loopback needs no TLS because the secret stays on this machine: an HTTP_PROXY
            # from the environment would carry it, unencrypted, to the proxy's host instead.
            trust_env=not _is_loopback(url),
        )

    @classmethod
    def exchange_credentials(
        cls,
        base_url: str | None = None,
        *,
        email: str,
        password: str,
        code: str | None = None,
        organization_id: str | None = None,
        name: str | None = None,
        scopes: list[str] | None = None,
        expires_at: TimeLike | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        user_agent: str | None = None,
        allow_insecure_http: bool | None = None,
    ) -> IssuedKey:
        """``POST /auth/token``: an account's email and password (and ``code``, the current
        one-time code, when it has two-factor authentication) exchanged for a new API key,
        bound to ``organization_id`` (needed when the account reaches several orgs). Who may
        is the tenant's choice (its owners by default). ``scopes`` default to the account's
        own permissions in the org; ``name`` to "Credential exchange <date>".

        Returns the :class:`IssuedKey`: ``.key`` is shown this once (never in ``repr``); pass
        it to ``Tater(issued.key, base_url=…)``. Sent once, whatever the answer: a POST that
        creates a key is never repeated. The password goes in the body only and is kept
        nowhere. Refusals: :class:`AuthenticationError` ``INVALID_CREDENTIALS``,
        :class:`InvalidOtp` (the code missing, wrong or throttled: ``retry_after``),
        :class:`PermissionDenied` ``SSO_REQUIRED`` / ``MFA_REQUIRED`` / ``PERMISSION_DENIED``,
        :class:`AmbiguousOrg`, :class:`LockedOut`."""
        body: dict[str, Any] = {"email": email, "password": password}
        optional = {"code": code, "organizationId": organization_id, "name": name, "scopes": scopes}
        body.update({field: value for field, value in optional.items() if value is not None})
        if expires_at is not None:
            body["expires_at"] = iso(expires_at) if isinstance(expires_at, date) else expires_at
        anonymous = cls.__new__(cls)
        anonymous._connect(
            {},
            base_url=base_url,
            organization_id=None,
            timeout=timeout,
            retry=RetryPolicy.disabled(),
            transport=transport,
            user_agent=user_agent,
            allow_insecure_http=allow_insecure_http,
            max_response_bytes=MAX_RESPONSE_BODY,
            sent="the password",
        )
        with anonymous:
            return parse(IssuedKey.from_json, anonymous.request("POST", "/auth/token", json=body))

    def __repr__(self) -> str:
        return f"Tater(base_url={self.base_url!r})"  # never the key

    def __enter__(self) -> Tater:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def validate(self, *, organization_id: str | None = None) -> KeyInfo:
        """``GET /auth/validate``: whether the key is valid, and what it may do."""
        return parse(
            KeyInfo.from_json, self.request("GET", "/auth/validate", params={"organizationId": organization_id})
        )

    def me(self, *, organization_id: str | None = None) -> Me:
        """``GET /me``: the user this key acts for, its tenant and orgs with the user's roles
        (only the key's own), the org it acts in and its permissions. Standard and agent keys
        (a public key: :class:`~tater_client.KeyTypeNotAllowed`)."""
        return parse(Me.from_json, self.request("GET", "/me", params={"organizationId": organization_id}))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, ParamValue] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> Any:
        """Call any endpoint under ``/api/v1`` (``path`` like ``"/organizations/"``) and return
        its decoded JSON; errors raise :class:`TaterError` subclasses. An absolute URL is
        refused (``ValueError``): the key goes to ``base_url`` only."""
        response = self._send(method, path, params=params, json=json, content=content)
        try:
            body = _read_bounded_body(response, self.max_response_bytes, self.base_url, self._deadline())
        finally:
            response.close()
        if not body:
            return None
        try:
            return json_module.loads(body)
        except (ValueError, RecursionError):
            # A proxy's or a captive portal's page, not the API (or nesting deeper than any
            # parser follows, from a hostile one): an error like any other.
            raise TaterError(
                f"Not a JSON answer ({response.headers.get('Content-Type') or 'no Content-Type'}) "
                f"from {self.base_url}: is TATER_URL the Tater server?",
                code="INVALID_RESPONSE",
                status=response.status_code,
                request_id=response.headers.get("X-Request-ID"),
                headers=response.headers,
            ) from None

    @contextmanager
    def stream(
        self, method: str, path: str, *, params: Mapping[str, ParamValue] | None = None
    ) -> Iterator[httpx.Response]:
        """Like :meth:`request`, but yields the response with its body unread, for
        ``iter_bytes()``. Errors (their bodies read, up to 1 MB) raise before it is yielded."""
        response = self._send(method, path, params=params)
        try:
            yield response
        except httpx.TransportError as exc:  # the body stopped midway (each read is timed)
            raise _transport_error(exc, self.base_url) from exc
        except httpx.DecodingError as exc:
            raise _undecodable(exc) from exc
        finally:
            response.close()

    def _deadline(self) -> float | None:
        """When a body read whole must have arrived: the read timeout, for the whole body."""
        read = self._http.timeout.read
        return None if read is None else time.monotonic() + read

    def _params(self, params: Mapping[str, ParamValue] | None) -> dict[str, str]:
        merged: dict[str, ParamValue] = {"organizationId": self.organization_id}
        merged.update(params or {})
        return query(merged)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, ParamValue] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """The first answer under 300, its body unread (errors raise, after the retries)."""
        method = method.upper()
        target = httpx.URL(path)
        if target.scheme or target.host:
            # httpx sends an absolute URL as is, ignoring base_url, and the key goes with it
            # (a "next" link from some answer, say): only paths under this server's API.
            raise ValueError(f"{path!r} is not a path under {self.base_url}{API_PREFIX}: pass a path such as '/keys/'")
        headers = {"Content-Type": "application/json"} if content is not None else None
        request = self._http.build_request(
            method, path, params=self._params(params), json=json, content=content, headers=headers
        )
        policy = self.retry
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            wait: float | None = None
            server_may_have_acted = False
            try:
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                error: TaterError = _transport_error(exc, self.base_url)
                cause: BaseException | None = exc
                server_may_have_acted = not isinstance(exc, NOT_SENT)
            else:
                self.last_rate_limit = RateLimitInfo.from_headers(response.headers) or self.last_rate_limit
                if response.status_code < 300:
                    return response
                if response.status_code < 400:
                    # Redirects are not followed (the key would go along to wherever they
                    # point): say where the server sends the caller, as an error.
                    response.close()
                    raise redirect_error(response)
                try:
                    content = _read_error_body(response, self._deadline())
                finally:
                    response.close()
                error, cause = error_from_response(response, content), None
                if not retryable_status(response, error.code):
                    raise error
                wait = server_wait(response)
                # A 429 comes from the limiter, before any view. A 503 may follow a write that
                # landed: Tater's database connection lost at the commit, a proxy's upstream
                # reset after the request reached it.
                server_may_have_acted = response.status_code != 429
            delay = policy.backoff_for(attempt) if wait is None else wait
            if (
                not policy.allows(method)
                or (server_may_have_acted and method not in IDEMPOTENT_METHODS)
                or attempt >= policy.max_attempts
                or waited + delay > policy.max_total_wait
            ):
                raise error from cause
            self._sleep(delay)
            waited += delay
