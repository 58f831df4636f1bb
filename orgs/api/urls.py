from __future__ import annotations

from django.urls import path

from orgs.api import views

urlpatterns = [
    path("organizations/", views.OrganizationListView.as_view(), name="api-organizations"),
    path("organizations/<str:org_id>/", views.OrganizationDetailView.as_view(), name="api-organization-detail"),
    path("organizations/<str:org_id>/members/", views.MemberListView.as_view(), name="api-members"),
    path(
        "organizations/<str:org_id>/members/<str:user_id>/", views.MemberDetailView.as_view(), name="api-member-detail"
    ),
    path(
        "organizations/<str:org_id>/invitations/<str:invitation_id>/",
        views.InvitationDetailView.as_view(),
        name="api-invitation-detail",
    ),
    path(
        "organizations/<str:org_id>/invitations/<str:invitation_id>/resend/",
        views.InvitationResendView.as_view(),
        name="api-invitation-resend",
    ),
]
