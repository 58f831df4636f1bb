"""An SSO return completes in one transaction, opened once the identity provider has answered.

allauth completes a sign-in through an identity provider (Google, Microsoft, a tenant's OpenID
Connect or SAML IdP) in the return endpoint's view: after the exchange with the IdP (token,
user info, signing keys) it links the identity (``user.sso_linked``, accounts.receivers),
provisions the user (``save_user``) and signs them in (``user.login``). Those writes and their
audit entries are one transaction (SPEC §7): a failure anywhere leaves neither a link nor an
entry behind. The transaction is opened when allauth hands the IdP's answer to
``SocialAccountAdapter.pre_social_login`` (its first step of completing: ``begin``), never
around the network exchange before it, and ends with the view (``completes_atomically``):
committed with its answer (a refusal page included, its ``user.login_failed`` kept), rolled
back when the view raises."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

_pending: ContextVar[ExitStack | None] = ContextVar("tater_sso_completion", default=None)


def completes_atomically(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An SSO return endpoint's view: what ``begin`` opens ends with it."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with ExitStack() as stack:
            token = _pending.set(stack)
            try:
                return view(request, *args, **kwargs)
            finally:
                _pending.reset(token)

    return wrapped


def begin() -> None:
    """From here to the end of the return endpoint's view, one transaction (once per view;
    nothing outside such a view)."""
    stack = _pending.get()
    if stack is not None:
        _pending.set(None)
        stack.enter_context(transaction.atomic())
