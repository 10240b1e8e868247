"""Account endpoints: register a user, obtain an API token."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.serializers import (
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)
from apps.accounts.throttles import RegisterThrottle, TokenThrottle
from apps.core.schemas import error

TOKEN = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


class RegisterView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (RegisterThrottle,)

    @extend_schema(
        operation_id="auth_register",
        summary="Register a user and receive an API token",
        description=(
            "Creates an active user and returns its API token, to send as "
            "`Authorization: Token <token>`. Usernames and emails are unique regardless of "
            "case. Limited per client address (`THROTTLE_REGISTER`, 120/min by default)."
        ),
        request=RegisterInputSerializer,
        responses={
            201: RegisterOutputSerializer,
            400: error(
                400,
                'Invalid input (code "invalid", messages per field in "fields"): a taken '
                "username or email, a password that breaks a rule, a malformed field; or a "
                'body that is not JSON (code "parse_error").',
                {
                    "code": "invalid",
                    "detail": "This password is too common.",
                    "fields": {"password": ["This password is too common."]},
                },
            ),
        },
        examples=[
            OpenApiExample(
                "register",
                {
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "analytical-engine-1843",
                },
                request_only=True,
            ),
            OpenApiExample(
                "registered",
                {"username": "ada", "token": TOKEN},
                response_only=True,
                status_codes=["201"],
            ),
        ],
        tags=["accounts"],
    )
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, token = services.user_register(**serializer.validated_data)
        body = RegisterOutputSerializer({"username": user.get_username(), "token": token.key}).data
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (TokenThrottle,)

    @extend_schema(
        operation_id="auth_token",
        summary="Exchange username and password for the user's API token",
        description=(
            "Returns the user's one API token (created on first use). Limited per client "
            "address (`THROTTLE_TOKEN`, 120/min by default)."
        ),
        request=TokenInputSerializer,
        responses={
            200: TokenOutputSerializer,
            400: error(
                400,
                'Bad credentials or an inactive user (code "invalid_credentials", no "fields"), '
                'or malformed input (code "invalid" or "parse_error").',
                {
                    "code": "invalid_credentials",
                    "detail": "Unable to log in with the provided credentials.",
                },
            ),
        },
        examples=[
            OpenApiExample(
                "credentials",
                {"username": "ada", "password": "analytical-engine-1843"},
                request_only=True,
            ),
            OpenApiExample("token", {"token": TOKEN}, response_only=True, status_codes=["200"]),
        ],
        tags=["accounts"],
    )
    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = TokenThrottle().get_ident(request)  # the client's, behind declared proxies
        token = services.token_obtain(**serializer.validated_data, address=address)
        return Response(TokenOutputSerializer({"token": token.key}).data)
