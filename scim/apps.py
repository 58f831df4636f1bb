from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "SCIM provisioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import signals as account_signals
        from orgs import signals
        from scim.secrets_in_text import holds_scim_token
        from scim.services import departures, directory, provisioning, returns
        from tater.secret_detectors import register_secret_detector

        register_secret_detector(holds_scim_token)  # never in an audit entry, as a key (README)

        signals.member_joined.connect(directory.member_joined, dispatch_uid="scim.directory.member_joined")
        signals.member_leave_ahead.connect(
            departures.member_leave_ahead, dispatch_uid="scim.departures.member_leave_ahead"
        )
        signals.member_join_ahead.connect(returns.member_join_ahead, dispatch_uid="scim.returns.member_join_ahead")
        signals.member_left.connect(departures.member_left, dispatch_uid="scim.departures.member_left")
        account_signals.account_active_set_by_operator.connect(
            provisioning.operator_set_active, dispatch_uid="scim.provisioning.operator_set_active"
        )
        account_signals.account_write_ahead.connect(
            provisioning.operator_write_ahead, dispatch_uid="scim.provisioning.operator_write_ahead"
        )
