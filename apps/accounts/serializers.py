"""Parse and shape-check account requests; the business rules live in services.py."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_texts
from django.contrib.auth.validators import ASCIIUsernameValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

User = get_user_model()
_USERNAME_FIELD = User._meta.get_field(User.USERNAME_FIELD)
_EMAIL_FIELD = User._meta.get_field(User.get_email_field_name())

# Hashing cost and the similarity validator grow with length; no real password needs more.
PASSWORD_MAX_LENGTH = 1024


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of turning them into strings.

    It keeps surrounding spaces (DRF trims them by default): lengths and rules then apply to
    exactly what the client sent, as the OpenAPI schema describes it.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _username_field() -> StrictCharField:
    # ASCII letters, digits and @.+-_ (Django's rule with ASCII's \w): the OpenAPI pattern then
    # says exactly what is taken (a schema's \w is ASCII; Python's would take any letter).
    return StrictCharField(
        max_length=_USERNAME_FIELD.max_length,
        validators=[ASCIIUsernameValidator()],
        help_text="Letters, digits and @ . + - _ (ASCII), up to 150.",
    )


def _password_field() -> StrictCharField:
    return StrictCharField(
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


# The password rules as far as a schema can say them (AUTH_PASSWORD_VALIDATORS: at least 8
# characters, not only digits); the rest (not a common password, not like the username or email)
# is in the description, and a password that breaks it is a 400 with the reason in "fields".
@extend_schema_field(
    {
        "type": "string",
        "format": "password",
        # At least one character that is neither a digit nor NUL (which no field takes).
        "pattern": "^[^\\x00]*[^\\x00\\d][^\\x00]*$",
        "writeOnly": True,
        "description": " ".join(password_validators_help_texts()),
    }
)
class NewPasswordField(StrictCharField):
    pass


class RegisterInputSerializer(serializers.Serializer):
    username = _username_field()
    email = StrictEmailField(max_length=_EMAIL_FIELD.max_length)
    password = NewPasswordField(
        min_length=8,  # MinimumLengthValidator's default, checked here first
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        write_only=True,
    )


class RegisterOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    token = serializers.CharField()


class TokenInputSerializer(serializers.Serializer):
    # No character rules here: a bad name is simply a failed login, not a hint about the rules.
    username = StrictCharField(max_length=_USERNAME_FIELD.max_length)
    password = _password_field()


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()
