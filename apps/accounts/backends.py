"""Authentication without a password hash for a username that does not exist."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class KnownUsersBackend(ModelBackend):
    """Django's ModelBackend, minus the dummy hash it runs for an unknown username.

    That hash (250-390 ms of CPU at the production work factor) hides whether a username exists;
    here registration says so anyway ("taken"), so it only made a flood of made-up usernames as
    costly as real guesses. Guesses at real accounts are bounded by ``apps.accounts.guard``.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        model = get_user_model()
        if username is None:
            username = kwargs.get(model.USERNAME_FIELD)
        if username is None or password is None:
            return None
        if not model._default_manager.filter(**{model.USERNAME_FIELD: username}).exists():
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
