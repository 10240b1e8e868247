"""Parse and shape-check account requests; the business rules live in services.py."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

User = get_user_model()
_USERNAME_FIELD = User._meta.get_field(User.USERNAME_FIELD)
_EMAIL_FIELD = User._meta.get_field(User.get_email_field_name())

# Hashing cost and the similarity validator grow with length; no real password needs more.
PASSWORD_MAX_LENGTH = 1024


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers instead of turning them into strings."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _username_field() -> StrictCharField:
    # The model field's own validators: Django's username character rules and its max length.
    return StrictCharField(
        max_length=_USERNAME_FIELD.max_length, validators=list(_USERNAME_FIELD.validators)
    )


def _password_field() -> StrictCharField:
    return StrictCharField(
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        write_only=True,
        style={"input_type": "password"},
    )


class RegisterInputSerializer(serializers.Serializer):
    username = _username_field()
    email = StrictEmailField(max_length=_EMAIL_FIELD.max_length)
    password = _password_field()


class RegisterOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    token = serializers.CharField()


class TokenInputSerializer(serializers.Serializer):
    # No character rules here: a bad name is simply a failed login, not a hint about the rules.
    username = StrictCharField(max_length=_USERNAME_FIELD.max_length)
    password = _password_field()


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


# Documentation only: the envelope apps.core.exceptions renders. Named for this app so the schema
# components cannot collide with another app's error serializers.
class AuthErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Per-field messages; present when code is "invalid".',
    )


class AuthValidationErrorSerializer(AuthErrorSerializer):
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
