from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "SCIM provisioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orgs import signals
        from scim.services import directory

        signals.member_joined.connect(directory.member_joined, dispatch_uid="scim.directory.member_joined")
