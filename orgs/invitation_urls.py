from __future__ import annotations

from django.urls import path

from orgs import invitation_views

urlpatterns = [
    path("<str:token>/", invitation_views.invitation_accept, name="invitation-accept"),
]
