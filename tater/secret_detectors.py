"""Whether free text holds a live secret of this deployment (SPEC §2: a key never appears in audit
entries; §2a: nobody else receives another person's key secret): API keys, SCIM tokens. Each
app that issues secrets registers its check here in its ``AppConfig.ready`` (apikeys, scim), so
an app below it in the layers (scans' uploads, apikeys' own names and metadata) asks for every
kind of secret without importing the app that issues it."""

from __future__ import annotations

from collections.abc import Callable

Detector = Callable[[str], bool]
_detectors: list[Detector] = []


def register_secret_detector(detector: Detector) -> None:
    """Add ``detector`` (text -> whether it holds one of the app's live secrets), once."""
    if detector not in _detectors:
        _detectors.append(detector)


def holds_secret(text: str) -> bool:
    """Whether ``text`` holds a secret any registered detector recognises."""
    return any(detector(text) for detector in _detectors)
