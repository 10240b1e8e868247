"""Token authentication from memory: no query for a known token, and revocation is immediate."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.accounts.tests.factories import UserFactory
from apps.core.caching import remote
from apps.core.tests.redis_server import RedisServer

# Transactional: the bumps run on commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

CART = "/api/v1/cart/"


@pytest.fixture
def token() -> Token:
    return Token.objects.create(user=UserFactory())


def cart_as(key: str) -> tuple[int, int]:
    """GET the cart with ``key``; return (status, queries spent authenticating and answering)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with CaptureQueriesContext(connection) as queries:
        status = client.get(CART).status_code
    return status, len(queries)


def test_a_known_token_costs_no_query_after_its_first_request(token):
    first = cart_as(token.key)
    second = cart_as(token.key)

    assert first[0] == second[0] == 200
    assert second[1] == first[1] - 1  # the token lookup; the cart query remains


def test_a_deleted_token_stops_working_at_once(token):
    cart_as(token.key)
    Token.objects.filter(pk=token.pk).delete()  # a queryset delete still sends post_delete

    assert cart_as(token.key)[0] == 401


def test_a_deactivated_user_stops_working_at_once(token):
    cart_as(token.key)
    user = token.user
    user.is_active = False
    user.save()

    assert cart_as(token.key)[0] == 401


def test_an_unknown_token_is_refused_every_time():
    assert cart_as("0" * 40)[0] == 401
    assert cart_as("0" * 40)[0] == 401


def test_a_new_user_does_not_make_every_process_forget_its_tokens(token):
    cart_as(token.key)
    UserFactory()

    assert cart_as(token.key)[1] == 1  # still answered from memory: only the cart's query


@pytest.fixture
def own_redis(settings):
    server = RedisServer()
    server.start()
    configured = copy.deepcopy(settings.CACHES)
    for alias in ("default", "cachalot"):
        configured[alias]["LOCATION"] = server.url
        configured[alias]["OPTIONS"].update(SOCKET_TIMEOUT=0.2, SOCKET_CONNECT_TIMEOUT=0.2)
    settings.CACHES = configured
    settings.CACHE_RETRY_SECONDS = 0.2
    yield server
    server.close()
    remote._state.pending_epoch_bump = False


def test_a_token_revoked_while_redis_is_away_stays_revoked_when_it_is_back(own_redis, token):
    cart_as(token.key)  # known in memory
    own_redis.stop()
    Token.objects.filter(pk=token.pk).delete()  # its bump is lost
    assert cart_as(token.key)[0] == 401  # asked the database: Redis cannot vouch for memory
    own_redis.start()
    remote._state.open_until = 0.0  # the breaker's interval, skipped

    assert cart_as(token.key)[0] == 401
