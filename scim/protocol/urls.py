"""``/scim/v2/``: each route answers with and without a trailing slash (identity providers
send ``/Users``); anything else is a SCIM 404."""

from __future__ import annotations

from django.urls import path, re_path

from scim.protocol import views

ID = r"(?P<resource_id>[^/]+)"

urlpatterns = [
    re_path(
        r"^ServiceProviderConfig/?$", views.ServiceProviderConfigView.as_view(), name="scim-service-provider-config"
    ),
    re_path(r"^ResourceTypes/?$", views.ResourceTypesView.as_view(), name="scim-resource-types"),
    re_path(
        r"^ResourceTypes/(?P<resource_type>[^/]+)/?$", views.ResourceTypesView.as_view(), name="scim-resource-type"
    ),
    re_path(r"^Schemas/?$", views.SchemasView.as_view(), name="scim-schemas"),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", views.SchemasView.as_view(), name="scim-schema"),
    re_path(r"^Users/?$", views.UsersView.as_view(), name="scim-users"),
    re_path(r"^Users/\.search/?$", views.UserSearchView.as_view(), name="scim-users-search"),
    re_path(rf"^Users/{ID}/?$", views.UserView.as_view(), name="scim-user"),
    re_path(r"^Groups/?$", views.GroupsView.as_view(), name="scim-groups"),
    re_path(r"^Groups/\.search/?$", views.GroupSearchView.as_view(), name="scim-groups-search"),
    re_path(rf"^Groups/{ID}/?$", views.GroupView.as_view(), name="scim-group"),
    re_path(r"^\.search/?$", views.RootSearchView.as_view(), name="scim-search"),
    re_path(r"^(?:Bulk|Me)(?:/.*)?$", views.NotImplementedView.as_view(), name="scim-not-implemented"),
    path("", views.NotFoundView.as_view(), name="scim-root"),
    re_path(r"^.*$", views.NotFoundView.as_view(), name="scim-not-found"),
]
