"""Forms whose answer shows a secret once (a new API key, a rotated one, a SCIM token) carry a
one-off ``submit_token``: the browser re-posting such a form (a reload, "resend the form")
must not mint another secret. The New organization form carries one too (sent twice, one org).
The tokens already used are kept in the session."""

from __future__ import annotations

import secrets

from django import forms
from django.http import HttpRequest

SUBMITTED_SESSION_KEY = "apikeys_submitted_tokens"  # its name from when only key forms had it
KEPT = 20


class SubmitOnceField(forms.CharField):
    """The form's ``submit_token`` (initial: :func:`new_submit_token`), a hidden field."""

    def __init__(self) -> None:
        super().__init__(required=False, max_length=64, widget=forms.HiddenInput)


def new_submit_token() -> str:
    return secrets.token_urlsafe(16)


def already_submitted(request: HttpRequest, token: str) -> bool:
    """Was the form carrying ``token`` already submitted successfully in this session?"""
    return bool(token) and token in request.session.get(SUBMITTED_SESSION_KEY, [])


def mark_submitted(request: HttpRequest, token: str) -> None:
    if token:
        kept = request.session.get(SUBMITTED_SESSION_KEY, [])[-(KEPT - 1) :]
        request.session[SUBMITTED_SESSION_KEY] = [*kept, token]
