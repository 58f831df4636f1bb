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

    if "account" in changes:
        changes = {**changes, "account": _account_name(str(changes["account"]))}
    with transaction.atomic():
        audit_record(
            action=A.AUTH_LOCKED_OUT, tenant=None, changes=changes, actor_email=str(changes.get("account", ""))
        )


def _account_name(key: str) -> str:
    """An account lockout names a known account by its stored address, as its ``user.login``
    and ``user.login_failed`` entries do (one spelling per person in the log, SPEC §8); an
    address with no account keeps its normalized form (the lockout's key)."""
    from django.contrib.auth import get_user_model

    from tater.emails import normalize_email

    stored = get_user_model().objects.filter(email_canonical=normalize_email(key)).values_list("email", flat=True)
    return str(stored.first() or key)
