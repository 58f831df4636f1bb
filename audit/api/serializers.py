"""Shapes of the audit-log API, for the OpenAPI schema (the view builds the dicts itself
from ``audit.selectors.entry_data``)."""

from __future__ import annotations

from rest_framework import serializers

from audit.models import Channel


class ActorOutput(serializers.Serializer):
    user_id = serializers.CharField(
        allow_null=True, help_text="The acting user's id (usr-...); null for the system or a deleted user"
    )
    email = serializers.CharField(allow_blank=True)


class TargetOutput(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.CharField(allow_null=True, help_text="The target's public id; null for an object without one")
    display = serializers.CharField()


class AuditEntryOutput(serializers.Serializer):
    id = serializers.CharField(help_text="Entry id (evt-...)")
    time = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    action = serializers.CharField(help_text="Dotted action name, e.g. api_key.created")
    actor = ActorOutput()
    via = serializers.ChoiceField(
        choices=["api", "scim", "session", "system"],
        help_text=(
            '"api" when an API key acted (key_id names it), "scim" when a SCIM token did (key_id names it), '
            '"session" for a signed-in user, "system" otherwise'
        ),
    )
    key_id = serializers.CharField(allow_null=True)
    target = TargetOutput(allow_null=True)
    organization_id = serializers.CharField(allow_null=True, help_text="null for tenant-level entries")
    tenant_id = serializers.CharField()
    changes = serializers.JSONField(help_text='{"field": {"from": old, "to": new}} or details; never a secret')
    ip = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField(allow_blank=True)
    request_id = serializers.CharField(allow_blank=True)


class AuditPageOutput(serializers.Serializer):
    entries = AuditEntryOutput(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as ?cursor= for the next (older) page")
    limit = serializers.IntegerField()
