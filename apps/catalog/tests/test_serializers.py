"""The product list's fast query parsing agrees with the serializer wherever it answers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.catalog.serializers import ProductListQuery, product_list_query_fast

VALUES = st.one_of(
    st.sampled_from(["", "true", "false", "price", "-price", "name", "-created_at", "10", "0"]),
    st.text(max_size=8),
    st.from_regex(r"[A-Za-z0-9_-]{1,12}\n?", fullmatch=True),
    st.integers(-5, 10_000_000).map(str),
)
KEYS = st.sampled_from(["ordering", "page_size", "cursor", "in_stock", "q", "tag", "other"])


def serializer_data(params: dict) -> dict | None:
    query = ProductListQuery(data=params)
    return dict(query.validated_data) if query.is_valid() else None


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_wherever_the_fast_path_answers_the_serializer_answers_the_same(params):
    fast = product_list_query_fast(params)
    if fast is not None:
        assert serializer_data(params) == fast


@pytest.mark.parametrize(
    "params",
    [{}, {"page_size": "10"}, {"ordering": "price", "in_stock": "true"}, {"cursor": "WyJ4Il0"}],
)
def test_a_browsing_query_takes_the_fast_path(params):
    assert product_list_query_fast(params) == serializer_data(params)
