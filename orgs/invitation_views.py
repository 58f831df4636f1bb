"""The accept link of a member invitation: ``/invitations/<token>/``.

GET only shows the invitation (mail scanners prefetch links, so GET changes nothing);
the signed-in user accepts with a POST. Signing in or up first is required, with the
address the invitation was sent to.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from orgs import members, selectors, services
from orgs.access import SESSION_ORG_KEY
from tater.emails import normalize_email
from tater.exceptions import DomainError, NotPermitted, ObjectNotFound


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_get_by_token(token=token)
    if invitation is not None and invitation.accepted_at is not None and invitation.accepted_by_id == request.user.pk:
        # Accept pressed again, or the email's link followed after accepting: not an error.
        joined = selectors.orgs_reachable_by_user(user=request.user).filter(pk=invitation.organization_id).first()
        if joined is not None:
            request.session[SESSION_ORG_KEY] = joined.public_id
            messages.info(request, f"You already joined {joined.name}.")
            return redirect("/")
    problem, status, unconfirmed = "", 200, False
    if invitation is None:
        problem, status = "This invitation link is not valid.", 404
    elif invitation.accepted_at is not None or invitation.revoked_at is not None:
        problem, status = "This invitation has already been used or was replaced by a newer one.", 410
    elif invitation.expires_at <= timezone.now():
        problem, status = "This invitation has expired: ask for a new one.", 410
    elif not services.inviter_may_still_grant(invitation):
        problem, status = f"{members.INVITER_GONE}.", 410
    elif invitation.key_deactivated:
        problem, status = f"{members.KEY_DEACTIVATED}.", 410
    elif not members.has_verified_email(request.user, normalize_email(invitation.email)):
        # Signed up from the link (or added the address) but not confirmed it yet: say so,
        # not "sign in with that address" to someone signed in with it.
        unconfirmed = members.has_email(request.user, normalize_email(invitation.email))
        problem, status = (
            f"Confirm {invitation.email} first: open the link in the confirmation email sent to it, "
            "then this invitation again."
            if unconfirmed
            else f"This invitation was sent to {invitation.email}: sign in with that address, verified, to accept it.",
            403,
        )
    if request.method == "POST" and not problem:
        try:
            membership = members.invitation_accept(token=token, user=request.user)
        except DomainError as exc:
            status = {ObjectNotFound: 404, NotPermitted: 403}.get(type(exc), 410)
            problem = exc.message
        else:
            # Land in the org just joined, and say so (its name may be the one of an org they have).
            joined = membership.organization
            request.session[SESSION_ORG_KEY] = joined.public_id
            messages.success(
                request, f"You are a member of {joined.name} ({joined.tenant.name}) as {membership.get_role_display()}."
            )
            return redirect("/")
    context = {
        "invitation": invitation if invitation is not None and status != 404 else None,
        "problem": problem,
        "unconfirmed": unconfirmed,
    }
    return render(request, "invitations/accept.html", context, status=status)
