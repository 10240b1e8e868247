import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient, APIRequestFactory

from apps.accounts import urls as accounts_urls
from apps.accounts.tests.factories import PASSWORD, UserFactory
from apps.accounts.throttles import RegisterThrottle, TokenThrottle

User = get_user_model()
REGISTER = reverse("auth-register")
TOKEN = reverse("auth-token")
STRONG = "plum-orbit-velvet-42"
VALID = {"username": "alice", "email": "alice@example.com", "password": STRONG}


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def existing_users():
    """Ten users, one of them "Bob" <bob@example.com>, for duplicate checks among many rows."""
    return [UserFactory(username="Bob", email="bob@example.com"), *UserFactory.create_batch(9)]


def assert_envelope(response, status: int, code: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert response["Content-Type"].startswith("application/json")
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.django_db
class TestRegister:
    def test_it_creates_the_user_and_answers_with_a_token_that_belongs_to_them(self, client):
        response = client.post(REGISTER, VALID, format="json")

        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"username", "token"}
        assert body["username"] == "alice"
        token = Token.objects.select_related("user").get(key=body["token"])
        assert token.user.username == "alice"
        assert token.user.check_password(STRONG)

    def test_the_token_authenticates_as_the_new_user(self, client):
        # No authenticated endpoint exists yet: check DRF's TokenAuthentication directly.
        key = client.post(REGISTER, VALID, format="json").json()["token"]
        request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {key}")
        user, auth = TokenAuthentication().authenticate(request)

        assert user.username == "alice"
        assert auth.key == key

    def test_a_username_taken_in_another_case_is_a_400_on_the_username_field(
        self, client, existing_users
    ):
        payload = {**VALID, "username": "bOB"}

        body = assert_envelope(client.post(REGISTER, payload, format="json"), 400, "invalid")

        assert body["fields"] == {"username": ["A user with that username already exists."]}
        assert User.objects.count() == len(existing_users)


# Each JSON case answers 400 "invalid"; the set is the fields the error must name.
_SWEEP = {
    "empty object": ({}, {"username", "email", "password"}),
    "missing username": ({"email": "a@example.com", "password": STRONG}, {"username"}),
    "missing email": ({"username": "alice", "password": STRONG}, {"email"}),
    "missing password": ({"username": "alice", "email": "a@example.com"}, {"password"}),
    "empty strings": (dict.fromkeys(VALID, ""), {"username", "email", "password"}),
    "nulls": (dict.fromkeys(VALID), {"username", "email", "password"}),
    "list body": ([VALID], {"non_field_errors"}),
    "string body": ("alice", {"non_field_errors"}),
    "username as number": ({**VALID, "username": 12345}, {"username"}),
    "username as object": ({**VALID, "username": {"a": 1}}, {"username"}),
    "username as list": ({**VALID, "username": ["alice"]}, {"username"}),
    "username as bool": ({**VALID, "username": True}, {"username"}),
    "10 KB username": ({**VALID, "username": "a" * 10_240}, {"username"}),
    "151-char username": ({**VALID, "username": "a" * 151}, {"username"}),
    "username with spaces": ({**VALID, "username": "al ice"}, {"username"}),
    "username with symbols": ({**VALID, "username": "alice!$"}, {"username"}),
    "invalid email": ({**VALID, "email": "not-an-email"}, {"email"}),
    "email as number": ({**VALID, "email": 42}, {"email"}),
    "300-char email": ({**VALID, "email": "a" * 290 + "@example.com"}, {"email"}),
    "email taken in another case": ({**VALID, "email": "BOB@Example.com"}, {"email"}),
    "common password": ({**VALID, "password": "password"}, {"password"}),
    "numeric password": ({**VALID, "password": "12345678901"}, {"password"}),
    "password as number": ({**VALID, "password": 82736451900}, {"password"}),
    "password like username": ({**VALID, "password": "alice1234"}, {"password"}),
    "2 KB password": ({**VALID, "password": "x" * 2048}, {"password"}),
}


def _raw(content_type: str, body: bytes):
    return {"data": body, "content_type": content_type}


_RAW_SWEEP = [
    ("non-JSON body", _raw("application/json", b"{not json"), 400, "parse_error"),
    ("truncated JSON", _raw("application/json", b'{"username": "al'), 400, "parse_error"),
    ("invalid UTF-8", _raw("application/json", b'{"username": "\xff\xfe"}'), 400, "parse_error"),
    ("NaN literal", _raw("application/json", b'{"username": NaN}'), 400, "parse_error"),
    (
        "form body",
        _raw("application/x-www-form-urlencoded", b"username=a"),
        415,
        "unsupported_media_type",
    ),
    ("text body", _raw("text/plain", b"username=a"), 415, "unsupported_media_type"),
]


@pytest.mark.django_db
class TestRegisterBadInput:
    @pytest.mark.parametrize(("payload", "fields"), _SWEEP.values(), ids=_SWEEP.keys())
    def test_bad_json_input_gets_the_envelope_and_writes_nothing(
        self, client, existing_users, payload, fields
    ):
        response = client.post(REGISTER, payload, format="json")

        body = assert_envelope(response, 400, "invalid")
        assert set(body["fields"]) == fields
        assert all(body["fields"][name] for name in fields)
        assert User.objects.count() == len(existing_users)
        assert not Token.objects.exists()

    @pytest.mark.parametrize(
        ("request_kwargs", "status", "code"),
        [case[1:] for case in _RAW_SWEEP],
        ids=[case[0] for case in _RAW_SWEEP],
    )
    def test_unparseable_bodies_get_the_envelope_and_write_nothing(
        self, client, existing_users, request_kwargs, status, code
    ):
        response = client.generic("POST", REGISTER, **request_kwargs)

        assert_envelope(response, status, code)
        assert User.objects.count() == len(existing_users)

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    @pytest.mark.parametrize("url", [REGISTER, TOKEN])
    def test_other_methods_get_405_with_the_envelope(self, client, existing_users, method, url):
        response = getattr(client, method)(url)

        assert_envelope(response, 405, "method_not_allowed")
        assert "POST" in response["Allow"]
        assert User.objects.count() == len(existing_users)


@pytest.mark.django_db
class TestToken:
    def test_it_returns_the_token_issued_at_registration(self, client):
        registered = client.post(REGISTER, VALID, format="json").json()

        response = client.post(TOKEN, {"username": "alice", "password": STRONG}, format="json")

        assert response.status_code == 200
        assert response.json() == {"token": registered["token"]}

    def test_it_creates_a_token_for_a_user_without_one(self, client, existing_users):
        user = existing_users[4]

        response = client.post(
            TOKEN, {"username": user.username, "password": PASSWORD}, format="json"
        )

        assert response.status_code == 200
        assert Token.objects.get(user=user).key == response.json()["token"]
        assert Token.objects.count() == 1

    @pytest.mark.parametrize(
        "payload",
        [
            {"username": "Bob", "password": "not-the-password"},
            {"username": "nobody", "password": PASSWORD},
            {"username": "Bob", "password": PASSWORD + " "},
        ],
        ids=["wrong password", "unknown user", "password with trailing space"],
    )
    def test_bad_credentials_get_400_invalid_credentials(self, client, existing_users, payload):
        response = client.post(TOKEN, payload, format="json")

        body = assert_envelope(response, 400, "invalid_credentials")
        assert "fields" not in body
        assert not Token.objects.exists()

    def test_an_inactive_user_gets_400_invalid_credentials(self, client):
        UserFactory(username="sleeper", is_active=False)

        response = client.post(TOKEN, {"username": "sleeper", "password": PASSWORD}, format="json")

        assert_envelope(response, 400, "invalid_credentials")
        assert not Token.objects.exists()

    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ({}, {"username", "password"}),
            ({"username": "", "password": ""}, {"username", "password"}),
            ({"username": 7, "password": PASSWORD}, {"username"}),
            ({"username": "Bob", "password": {"x": 1}}, {"password"}),
            ({"username": "a" * 10_240, "password": PASSWORD}, {"username"}),
            ([{"username": "Bob", "password": PASSWORD}], {"non_field_errors"}),
        ],
        ids=["empty", "empty strings", "number", "object", "10 KB username", "list"],
    )
    def test_malformed_input_gets_400_with_fields(self, client, existing_users, payload, fields):
        response = client.post(TOKEN, payload, format="json")

        body = assert_envelope(response, 400, "invalid")
        assert set(body["fields"]) == fields
        assert not Token.objects.exists()

    def test_non_json_and_wrong_content_type_get_the_envelope(self, client):
        parse = client.generic("POST", TOKEN, b"{", content_type="application/json")
        form = client.post(TOKEN, {"username": "a", "password": "b"}, format="multipart")

        assert_envelope(parse, 400, "parse_error")
        assert_envelope(form, 415, "unsupported_media_type")


@pytest.mark.django_db
class TestThrottling:
    @pytest.fixture(autouse=True)
    def three_per_minute(self, monkeypatch):
        # DRF reads the rates into the class attribute at import: override_settings cannot reach it.
        rates = {"register": "3/min", "token": "3/min"}
        monkeypatch.setattr(RegisterThrottle, "THROTTLE_RATES", rates)
        monkeypatch.setattr(TokenThrottle, "THROTTLE_RATES", rates)

    def _register(self, client, n: int, addr: str, **extra):
        payload = {"username": f"user{n}", "email": f"user{n}@example.com", "password": STRONG}
        return client.post(REGISTER, payload, format="json", REMOTE_ADDR=addr, **extra)

    def test_the_fourth_registration_from_one_address_is_429_and_another_address_succeeds(
        self, client
    ):
        first_three = [self._register(client, n, "10.0.0.1").status_code for n in range(3)]

        throttled = self._register(client, 3, "10.0.0.1")
        elsewhere = self._register(client, 4, "10.0.0.2")

        assert first_three == [201, 201, 201]
        assert_envelope(throttled, 429, "throttled")
        assert 0 < int(throttled["Retry-After"]) <= 60
        assert elsewhere.status_code == 201
        assert sorted(User.objects.values_list("username", flat=True)) == [
            "user0",
            "user1",
            "user2",
            "user4",
        ]

    def test_invalid_registrations_count_against_the_limit_too(self, client):
        for _ in range(3):
            client.post(REGISTER, {}, format="json", REMOTE_ADDR="10.0.0.3")

        response = self._register(client, 0, "10.0.0.3")

        assert_envelope(response, 429, "throttled")
        assert not User.objects.exists()

    def test_an_invented_forwarded_for_header_does_not_escape_the_limit(self, client):
        statuses = [
            self._register(client, n, "10.0.0.5", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
            for n in range(4)
        ]

        assert statuses == [201, 201, 201, 429]
        assert User.objects.count() == 3

    def test_behind_a_declared_proxy_each_client_address_has_its_own_bucket(self, client, settings):
        # NUM_PROXIES unset behind a proxy: every client shared the proxy's one bucket.
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        proxy = "10.0.0.7"
        one_client = [
            self._register(client, n, proxy, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code
            for n in range(4)
        ]
        other_client = self._register(client, 9, proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")

        assert one_client == [201, 201, 201, 429]
        assert other_client.status_code == 201

    def test_forwarded_requests_without_a_declared_proxy_are_warned_about_once(
        self, client, caplog, monkeypatch
    ):
        from apps.accounts import throttles

        monkeypatch.setattr(throttles, "_unconfigured_proxy_seen", False)
        caplog.set_level("WARNING", logger="apps.accounts.throttles")
        for n in range(3):
            self._register(client, n, "10.0.0.8", HTTP_X_FORWARDED_FOR="198.51.100.3")

        warnings = [r.getMessage() for r in caplog.records if r.name == "apps.accounts.throttles"]
        assert len(warnings) == 1 and "NUM_PROXIES is unset" in warnings[0]

    def test_the_fourth_token_request_from_one_address_is_429(self, client):
        user = UserFactory()
        credentials = {"username": user.username, "password": PASSWORD}

        statuses = [
            client.post(TOKEN, credentials, format="json", REMOTE_ADDR="10.0.0.9").status_code
            for _ in range(4)
        ]
        elsewhere = client.post(TOKEN, credentials, format="json", REMOTE_ADDR="10.0.0.10")

        assert statuses == [200, 200, 200, 429]
        assert elsewhere.status_code == 200

    def test_the_default_rates_allow_at_least_100_registrations_a_minute(self, monkeypatch):
        monkeypatch.undo()
        throttle = RegisterThrottle()

        assert throttle.num_requests >= 100
        assert throttle.duration == 60
        assert TokenThrottle().num_requests > 0


def test_the_accounts_schema_is_valid_openapi_with_error_responses():
    schema = SchemaGenerator(patterns=accounts_urls.urlpatterns).get_schema(public=True)
    validate_schema(schema)

    register = schema["paths"]["/auth/register/"]["post"]
    token = schema["paths"]["/auth/token/"]["post"]
    assert set(register["responses"]) == {"201", "400", "413", "429", "503"}
    assert set(token["responses"]) == {"200", "400", "413", "429", "503"}
    assert register["tags"] == token["tags"] == ["accounts"]
    components = schema["components"]["schemas"]
    assert components["RegisterOutput"]["required"] == ["token", "username"]
    # One envelope for every error: "fields" only with code "invalid" (not a parse_error's 400).
    assert components["ErrorSchema"]["required"] == ["code", "detail"]
    password = components["RegisterInputRequest"]["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (8, 1024)
