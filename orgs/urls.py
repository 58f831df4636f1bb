from __future__ import annotations

from django.urls import path

from orgs import settings_views, views

urlpatterns = [
    path("orgs/switch/", views.org_switch, name="org_switch"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("members/", views.members, name="members"),
    path("members/<int:user_id>/role/", views.member_role, name="member_role"),
    path("members/<int:user_id>/tenant-role/", views.member_tenant_role, name="member_tenant_role"),
    path("members/<int:user_id>/remove/", views.member_remove, name="member_remove"),
    path("members/invitations/<str:invitation_id>/resend/", views.invitation_resend, name="invitation_resend"),
    path("members/invitations/<str:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("settings/tenant/", settings_views.tenant_settings, name="tenant_settings"),
    path("settings/org/", settings_views.org_settings, name="org_settings"),
]
