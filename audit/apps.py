from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tater import lockout

        lockout.locked_out.connect(_record_lockout, dispatch_uid="audit.lockout")


def _record_lockout(sender: object, *, changes: dict[str, object], **kwargs: object) -> None:
    from django.db import transaction

    from audit import registry as A
    from audit.services import audit_record

    with transaction.atomic():
        audit_record(
            action=A.AUTH_LOCKED_OUT, tenant=None, changes=changes, actor_email=str(changes.get("account", ""))
        )
