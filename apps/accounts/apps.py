from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from apps.accounts.authentication import auth_changed

        # Cache freshness, not flow: a token deleted or replaced, a user deactivated or given a
        # new password (the admin, a shell) must stop authenticating at once everywhere.
        user = get_user_model()
        post_save.connect(_user_changed, sender=user, dispatch_uid="auth-user-saved")
        post_delete.connect(auth_changed, sender=user, dispatch_uid="auth-user-deleted")
        post_save.connect(_token_changed, sender=Token, dispatch_uid="auth-token-saved")
        post_delete.connect(auth_changed, sender=Token, dispatch_uid="auth-token-deleted")


def _user_changed(sender, created: bool, **kwargs) -> None:
    from apps.accounts.authentication import auth_changed

    if not created:  # a new user has no token anyone could have cached
        auth_changed()


def _token_changed(sender, created: bool, **kwargs) -> None:
    from apps.accounts.authentication import auth_changed

    if not created:  # a new token cannot be cached yet; a changed one can
        auth_changed()
