"""Account endpoints: register a user, obtain an API token."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import services
from apps.accounts.serializers import (
    AuthErrorSerializer,
    AuthValidationErrorSerializer,
    RegisterInputSerializer,
    RegisterOutputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)
from apps.accounts.throttles import RegisterThrottle, TokenThrottle

_THROTTLED = OpenApiResponse(
    AuthErrorSerializer, description='Too many requests from this address (code "throttled").'
)


class RegisterView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (RegisterThrottle,)

    @extend_schema(
        operation_id="auth_register",
        summary="Register a user and receive an API token",
        request=RegisterInputSerializer,
        responses={
            201: RegisterOutputSerializer,
            400: OpenApiResponse(
                AuthValidationErrorSerializer,
                description='Invalid input (code "invalid", per-field messages in "fields"): '
                "taken username or email (case-insensitive), weak password, bad format.",
            ),
            429: _THROTTLED,
        },
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
        request=TokenInputSerializer,
        responses={
            200: TokenOutputSerializer,
            400: OpenApiResponse(
                AuthErrorSerializer,
                description='Bad credentials or inactive user (code "invalid_credentials", no '
                '"fields"), or malformed input (code "invalid").',
            ),
            429: _THROTTLED,
        },
        tags=["accounts"],
    )
    def post(self, request):
        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = services.token_obtain(**serializer.validated_data)
        return Response(TokenOutputSerializer({"token": token.key}).data)
