"""Account operations: registration and API-token issue."""

import hashlib

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from rest_framework.authtoken.models import Token

from apps.accounts.errors import InvalidCredentials
from apps.accounts.guard import (
    failed_login_record,
    failed_logins_check,
    failed_logins_clear,
    hashing_slot,
)

User = get_user_model()

USERNAME_TAKEN = "A user with that username already exists."
EMAIL_TAKEN = "A user with that email address already exists."


def _lock_key(kind: str, value: str) -> int:
    """Map a case-folded identity to a 64-bit advisory-lock key, the same in every process."""
    digest = hashlib.blake2b(f"accounts:{kind}:{value.casefold()}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


def _lock_identities(*, username: str, email: str) -> None:
    """Serialize registrations that share a case-insensitive username or email until commit.

    The database only enforces exact-case uniqueness of usernames (and none on email), so two
    concurrent "Bob"/"bob" registrations would both pass the existence check. Keys are taken in
    sorted order so that two registrations sharing both keys cannot deadlock.
    """
    keys = sorted({_lock_key("username", username), _lock_key("email", email)})
    placeholders = ", ".join(["pg_advisory_xact_lock(%s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {placeholders}", keys)


def _password_errors(*, username: str, email: str, password: str) -> list[str]:
    # Run the validators against an unsaved user so the similarity check sees name and email.
    candidate = User(**{User.USERNAME_FIELD: username, User.get_email_field_name(): email})
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        return list(exc.messages)
    return []


@transaction.atomic
def _user_create(
    *, username: str, email: str, password_hash: str | None, password_errors: list[str]
) -> tuple[AbstractBaseUser, Token]:
    errors = {"password": password_errors} if password_errors else {}
    _lock_identities(username=username, email=email)
    if User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).exists():
        errors[User.USERNAME_FIELD] = [USERNAME_TAKEN]
    if User._default_manager.filter(**{f"{User.get_email_field_name()}__iexact": email}).exists():
        errors["email"] = [EMAIL_TAKEN]
    if errors or password_hash is None:
        raise ValidationError(errors)

    user = User._default_manager.create(
        **{User.USERNAME_FIELD: username, User.get_email_field_name(): email},
        password=password_hash,
    )
    token = Token.objects.create(user=user)
    return user, token


def user_register(*, username: str, email: str, password: str) -> tuple[AbstractBaseUser, Token]:
    """Create an active user with an API token, or raise ValidationError keyed by field."""
    username = AbstractBaseUser.normalize_username(username)
    email = User._default_manager.normalize_email(email)
    password_errors = _password_errors(username=username, email=email, password=password)
    # Hash before the transaction: the production hasher takes far longer than the writes, and
    # neither a connection nor the identity locks should be held through it.
    if password_errors:
        password_hash = None
    else:
        with hashing_slot():
            password_hash = make_password(password)
    try:
        return _user_create(
            username=username,
            email=email,
            password_hash=password_hash,
            password_errors=password_errors,
        )
    except IntegrityError as exc:
        # Only reachable when a user was written around this service (admin, shell) at the same
        # moment: the unique username index is the last line of defence, and it means "taken".
        raise ValidationError({User.USERNAME_FIELD: [USERNAME_TAKEN]}) from exc


# Not atomic on purpose: checking the password costs far more than the one write, which
# get_or_create already wraps in its own savepoint (and retries as a read if a racer wins).
def token_obtain(*, username: str, password: str, address: str = "") -> Token:
    """Return the user's API token, creating it on first use; raise InvalidCredentials otherwise.

    An account or address with too many recent failures is refused before any hashing (429).
    """
    username = AbstractBaseUser.normalize_username(username)
    failed_logins_check(username, address)
    with hashing_slot():
        user = authenticate(username=username, password=password)
    # The default backend already refuses inactive users; other backends might not.
    if user is None or not user.is_active:
        failed_login_record(username, address)
        raise InvalidCredentials()
    failed_logins_clear(username, address)
    token, _ = Token.objects.get_or_create(user=user)
    return token
