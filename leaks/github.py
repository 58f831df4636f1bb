"""GitHub's secret-scanning signatures (SPEC §14).

GitHub signs the raw body of each alert with ECDSA P-256 / SHA-256 (base64 DER signature in
``Github-Public-Key-Signature``) under one of the public keys it publishes at
``app_settings.keys_url()``, named by ``Github-Public-Key-Identifier``. The keys are kept
in the Django cache; an identifier that is not among them fetches them again (GitHub
rotates its keys), at most once per cooldown so forged identifiers cannot make Tater
hammer GitHub. The fetch runs on its own thread and is waited for at most the fetch timeout:
a key server answering a byte at a time never holds the worker that took GitHub's alert. A
payload is accepted once per replay window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import logging
import os
import re
import ssl
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import Future
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.core.cache import cache

from leaks import app_settings

logger = logging.getLogger("leaks")

KEYS_CACHE_KEY = "leaks:github:keys"
LAST_KEYS_CACHE_KEY = "leaks:github:keys:last"  # the same keys, kept for STALE_IF_ERROR_SECONDS more
REFRESH_MARK = "leaks:github:refreshed"
FAILURE_MARK = "leaks:github:fetch-failed"
SEEN_PREFIX = "leaks:github:seen:"
# After a failed fetch, requests answer 503 without fetching for this long.
FAILURE_BACKOFF_SECONDS = 10
# When a fetch fails, the keys fetched last still verify for this long after they expire
# (GitHub's API down, or its unauthenticated rate limit reached from a shared address).
STALE_IF_ERROR_SECONDS = 24 * 3600
MAX_KEYS_DOCUMENT_BYTES = 256 * 1024
# GitHub's identifiers are 64 hex digits; anything else is refused before any lookup.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
# A DER P-256 signature is at most 72 bytes (96 base64 characters).
MAX_SIGNATURE_CHARS = 128


class SignatureRefused(Exception):
    """The request is not a genuine, fresh GitHub alert (answered 401)."""


class Unavailable(Exception):
    """The alert cannot be handled right now (answered 503, so GitHub retries). The
    exception's text is for the log; callers get ``public_message``."""

    public_message = "Secret-scanning alerts cannot be handled right now, retry shortly"


class KeysUnavailable(Unavailable):
    """GitHub's public keys could not be fetched."""

    public_message = "GitHub's signing keys are unavailable, retry shortly"


class Replayed(Exception):
    """The body was accepted before (within the replay window): answered with its labels,
    nothing done again (GitHub retries an alert whose answer it did not get)."""


class ReplayRecordUnavailable(Unavailable):
    """The cache cannot record the payload, so a replay could not be told apart."""


# --- GitHub's public keys ------------------------------------------------------------


def _opener() -> urllib.request.OpenerDirector:
    # http(s) only, no redirects (a 3xx is an error), proxies from the environment.
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _download(url: str, timeout: float) -> bytes:
    try:
        scheme = urllib.parse.urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("https", "http"):
        raise KeysUnavailable("TATER_GITHUB_SECRET_SCANNING_KEYS_URL must be an http(s) URL")
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    size = 0
    try:
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url, headers={"Accept": "application/json", "User-Agent": "Tater-secret-scanning"}
        )
        with _opener().open(request, timeout=timeout) as response:
            # One socket read per chunk (read() waits for all 16 KB), each bounded by the
            # socket timeout; the deadline bounds the whole download.
            while chunk := response.read1(16384):
                size += len(chunk)
                if size > MAX_KEYS_DOCUMENT_BYTES:
                    raise KeysUnavailable("GitHub's key document is too large")
                if time.monotonic() > deadline:
                    raise KeysUnavailable("GitHub's key document took too long")
                chunks.append(chunk)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise KeysUnavailable(f"GitHub's public keys could not be fetched ({type(exc).__name__})") from exc
    return b"".join(chunks)


_downloads_lock = threading.Lock()
_downloads: dict[str, Future[bytes]] = {}  # keys URL -> its download in flight
# A forked worker inherits the dict, not the threads behind it.
os.register_at_fork(after_in_child=_downloads.clear)


def _run_download(future: Future[bytes], url: str, timeout: float) -> None:
    future.set_running_or_notify_cancel()
    try:
        future.set_result(_download(url, timeout))
    except BaseException as exc:  # handed to whoever waits for it
        future.set_exception(exc)


def _download_within(url: str, timeout: float) -> bytes:
    """``_download`` on a daemon thread, waited for at most ``timeout``: the socket timeout
    bounds each read, not the status line and headers (a server may send them a byte at a
    time), so only a wait of our own bounds the worker. A download still running is joined,
    not started again: threads cannot pile up, nor requests to GitHub."""
    with _downloads_lock:
        future = _downloads.get(url)
        if future is None or future.done():
            future = _downloads[url] = Future()
            worker = threading.Thread(
                target=_run_download, args=(future, url, timeout), name="github-keys-fetch", daemon=True
            )
            worker.start()
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        raise KeysUnavailable("GitHub's key document took too long") from None


@lru_cache(maxsize=32)
def _public_key(pem: str) -> ec.EllipticCurvePublicKey | None:
    """The P-256 key in ``pem``, or None for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return None
    return key


def fetch_public_keys() -> dict[str, str]:
    """GitHub's usable public keys, ``{key_identifier: PEM}``, fetched now."""
    raw = _download_within(app_settings.keys_url(), app_settings.fetch_timeout_seconds())
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise KeysUnavailable("GitHub's key document is not JSON") from exc
    entries = document.get("public_keys") if isinstance(document, dict) else None
    keys: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        identifier, pem = entry.get("key_identifier"), entry.get("key")
        if isinstance(identifier, str) and _IDENTIFIER.match(identifier) and isinstance(pem, str):
            if _public_key(pem) is not None:
                keys[identifier] = pem
    if not keys:
        raise KeysUnavailable("GitHub's key document holds no usable P-256 key")
    return keys


def _refresh() -> dict[str, str]:
    if cache.get(FAILURE_MARK) is not None:
        raise KeysUnavailable("GitHub's public keys could not be fetched moments ago")
    try:
        keys = fetch_public_keys()
    except KeysUnavailable:
        cache.set(FAILURE_MARK, 1, FAILURE_BACKOFF_SECONDS)
        raise
    cache.set(KEYS_CACHE_KEY, keys, app_settings.keys_cache_seconds())
    cache.set(LAST_KEYS_CACHE_KEY, keys, app_settings.keys_cache_seconds() + STALE_IF_ERROR_SECONDS)
    return keys


def _refresh_or_last() -> dict[str, str]:
    """Fresh keys, else (the fetch failing) the keys fetched last, for a day past their
    hour: a 503 to every alert while GitHub's key API is down helps nobody."""
    try:
        return _refresh()
    except KeysUnavailable as exc:
        last = cache.get(LAST_KEYS_CACHE_KEY)
        if not isinstance(last, dict):
            raise
        logger.warning("secret scanning: %s; verifying with the keys fetched last", exc)
        return last


def public_key_pem(identifier: str) -> str | None:
    """The PEM of GitHub's key ``identifier``, or None if GitHub does not publish it."""
    keys = cache.get(KEYS_CACHE_KEY)
    if keys is None:
        keys = _refresh_or_last()
    elif identifier not in keys and cache.add(REFRESH_MARK, 1, app_settings.refresh_cooldown_seconds()):
        keys = _refresh()  # GitHub may have rotated its keys since we fetched them
    pem = keys.get(identifier)
    return pem if isinstance(pem, str) else None


# --- Verification ----------------------------------------------------------------------


def verify(*, body: bytes, key_identifier: str | None, signature: str | None) -> None:
    """Raise ``SignatureRefused`` unless ``signature`` is GitHub's signature of ``body``
    under the published key ``key_identifier``; ``KeysUnavailable`` if the keys cannot be
    fetched. Nothing of the body is read before this passes."""
    if not key_identifier or not signature:
        raise SignatureRefused("Missing GitHub signature headers")
    if not _IDENTIFIER.match(key_identifier) or len(signature) > MAX_SIGNATURE_CHARS:
        raise SignatureRefused("Invalid GitHub signature")
    try:
        der = base64.b64decode(signature, validate=True)
        # Well-formed before any key is looked up: junk headers never fetch GitHub's keys.
        decode_dss_signature(der)
    except (binascii.Error, ValueError):
        raise SignatureRefused("Invalid GitHub signature") from None
    pem = public_key_pem(key_identifier)
    key = _public_key(pem) if pem is not None else None
    if key is None:
        raise SignatureRefused("Unknown GitHub key identifier")
    try:
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SignatureRefused("Invalid GitHub signature") from None


def claim_payload(body: bytes) -> str:
    """Remember an accepted payload for the replay window and return its record's cache
    key; ``Replayed`` if it was accepted before, ``ReplayRecordUnavailable`` if the cache
    cannot keep the record (an outage: GitHub retries the 503 later).

    Keyed on the body alone, not on the signature: ECDSA signatures are malleable (with
    (r, s) valid, so is (r, n - s)), so a captured request could be replayed under a
    signature never seen before."""
    key = SEEN_PREFIX + hashlib.sha256(body).hexdigest()
    if cache.add(key, 1, app_settings.replay_window_seconds()):
        return key
    if cache.get(key) is None:  # not added, yet not there: the cache is failing soft
        raise ReplayRecordUnavailable("The replay record cannot be kept right now")
    raise Replayed("Replayed GitHub payload")


def release_payload(claim: str) -> None:
    """Forget a claimed payload whose processing failed, so GitHub's retry is accepted."""
    cache.delete(claim)
