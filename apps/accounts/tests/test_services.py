import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from rest_framework.authtoken.models import Token

from apps.accounts.services import (
    EMAIL_TAKEN,
    USERNAME_TAKEN,
    InvalidCredentials,
    token_obtain,
    user_register,
)
from apps.accounts.tests.factories import PASSWORD, UserFactory

User = get_user_model()
STRONG = "plum-orbit-velvet-42"


@pytest.fixture
def existing_users():
    return UserFactory.create_batch(10)


def _run_in_thread(target) -> threading.Thread:
    """Run target on its own database connection, closed afterwards so teardown can drop the DB."""

    def wrapper():
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=wrapper)
    thread.start()
    return thread


@pytest.mark.django_db
class TestUserRegister:
    def test_it_creates_an_active_user_with_a_hashed_password_and_a_token(self, existing_users):
        user, token = user_register(username="alice", email="alice@example.com", password=STRONG)

        user.refresh_from_db()
        assert user.is_active
        assert user.email == "alice@example.com"
        assert user.password != STRONG
        assert user.check_password(STRONG)
        assert Token.objects.get(user=user).key == token.key
        assert User.objects.count() == len(existing_users) + 1

    def test_it_lowercases_the_email_domain_and_normalizes_the_username(self, existing_users):
        # U+FB01 (the "fi" ligature) folds to "fi" under NFKC, as Django's own forms do.
        user, _ = user_register(username="\ufb01ona", email="Fiona@EXAMPLE.COM", password=STRONG)

        assert user.username == "fiona"
        assert user.email == "Fiona@example.com"

    def test_it_rejects_a_username_taken_in_another_case(self, existing_users):
        taken = existing_users[3].username.upper()

        with pytest.raises(ValidationError) as excinfo:
            user_register(username=taken, email="new@example.com", password=STRONG)

        assert excinfo.value.message_dict == {"username": [USERNAME_TAKEN]}
        assert User.objects.count() == len(existing_users)

    def test_it_rejects_an_email_taken_in_another_case(self, existing_users):
        taken = existing_users[5].email.upper()

        with pytest.raises(ValidationError) as excinfo:
            user_register(username="newcomer", email=taken, password=STRONG)

        assert excinfo.value.message_dict == {"email": [EMAIL_TAKEN]}
        assert User.objects.count() == len(existing_users)

    @pytest.mark.parametrize(
        ("password", "expected"),
        [
            ("short1!", "This password is too short. It must contain at least 8 characters."),
            ("password", "This password is too common."),
            ("8273645190", "This password is entirely numeric."),
            ("maximilian-1", "The password is too similar to the username."),
            ("maximilian@example.org", "The password is too similar to the email address."),
        ],
    )
    def test_it_runs_the_configured_password_validators_with_the_user_attributes(
        self, password, expected
    ):
        with pytest.raises(ValidationError) as excinfo:
            user_register(username="maximilian", email="maximilian@example.org", password=password)

        assert expected in excinfo.value.message_dict["password"]
        assert not User.objects.exists()

    def test_it_reports_every_failing_field_at_once(self, existing_users):
        taken = existing_users[0]

        with pytest.raises(ValidationError) as excinfo:
            user_register(username=taken.username, email=taken.email, password="123")

        assert set(excinfo.value.message_dict) == {"username", "email", "password"}
        assert not Token.objects.exists()


@pytest.mark.django_db(transaction=True)
class TestUserRegisterConcurrency:
    def test_case_variants_registered_at_once_create_exactly_one_user(self):
        names = ["bob", "Bob", "BOB", "bOb", "boB", "BOb", "bOB", "BoB"]
        barrier = threading.Barrier(len(names))
        outcomes: list[str] = []

        def register(name: str) -> None:
            barrier.wait(timeout=10)
            try:
                user_register(username=name, email=f"{name}-{id(name)}@x.org", password=STRONG)
                outcomes.append("created")
            except ValidationError as exc:
                outcomes.append(",".join(exc.message_dict))

        threads = [_run_in_thread(lambda name=name: register(name)) for name in names]
        for thread in threads:
            thread.join(timeout=30)

        assert sorted(outcomes) == ["created"] + ["username"] * (len(names) - 1)
        assert User.objects.filter(username__iexact="bob").count() == 1
        assert Token.objects.count() == 1

    def test_an_exact_duplicate_written_around_the_service_becomes_a_validation_error(self):
        # A writer that skips the service (admin, shell) holds an uncommitted "carol"; the service
        # cannot see it, inserts too, waits on the unique index, then loses once the writer commits.
        inserted, release = threading.Event(), threading.Event()
        errors: list[ValidationError] = []

        def outside_writer():
            with transaction.atomic():
                User.objects.create_user("carol", "carol@elsewhere.org", STRONG)
                inserted.set()
                release.wait(timeout=10)

        def registrant():
            try:
                user_register(username="carol", email="carol@example.com", password=STRONG)
            except ValidationError as exc:
                errors.append(exc)

        writer = _run_in_thread(outside_writer)
        assert inserted.wait(timeout=10)
        service = _run_in_thread(registrant)
        _wait_for_a_lock_wait_on_auth_user()
        release.set()
        writer.join(timeout=10)
        service.join(timeout=10)

        assert [e.message_dict for e in errors] == [{"username": [USERNAME_TAKEN]}]
        assert list(User.objects.values_list("email", flat=True)) == ["carol@elsewhere.org"]
        assert not Token.objects.exists()


def _wait_for_a_lock_wait_on_auth_user(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"auth_user\"%%'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the registration never blocked on the concurrent insert")


@pytest.mark.django_db
class TestTokenObtain:
    def test_it_returns_the_token_issued_at_registration(self):
        user, token = user_register(username="dora", email="dora@example.com", password=STRONG)

        assert token_obtain(username="dora", password=STRONG).key == token.key
        assert Token.objects.filter(user=user).count() == 1

    def test_it_creates_a_token_for_a_user_who_has_none(self):
        users = UserFactory.create_batch(10)

        token = token_obtain(username=users[7].username, password=PASSWORD)

        assert token.user_id == users[7].pk
        assert list(Token.objects.values_list("user_id", flat=True)) == [users[7].pk]

    @pytest.mark.parametrize(
        ("username", "password"),
        [("erin", "wrong-password-1"), ("nobody", PASSWORD), ("ERIN", PASSWORD), ("erin", "")],
    )
    def test_it_refuses_bad_credentials(self, username, password):
        UserFactory(username="erin")

        with pytest.raises(InvalidCredentials):
            token_obtain(username=username, password=password)

        assert not Token.objects.exists()

    def test_it_refuses_an_inactive_user_even_with_the_right_password(self):
        UserFactory(username="frank", is_active=False)

        with pytest.raises(InvalidCredentials) as excinfo:
            token_obtain(username="frank", password=PASSWORD)

        assert excinfo.value.as_payload()["code"] == "invalid_credentials"
        assert not Token.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_token_requests_share_one_token():
    user = UserFactory()
    barrier = threading.Barrier(6)
    keys: list[str] = []

    def obtain():
        barrier.wait(timeout=10)
        keys.append(token_obtain(username=user.username, password=PASSWORD).key)

    threads = [_run_in_thread(obtain) for _ in range(6)]
    for thread in threads:
        thread.join(timeout=30)

    assert len(keys) == 6
    assert set(keys) == {Token.objects.get(user=user).key}
