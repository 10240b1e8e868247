"""The checkout body's fast path accepts only what the serializer accepts, with the same lines."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.orders.serializers import CheckoutInput, checkout_lines_fast

SKUS = st.one_of(
    st.text(max_size=70),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=66),
    st.integers(),
    st.none(),
)
QUANTITIES = st.one_of(st.integers(-2, 1_000), st.booleans(), st.floats(), st.text(max_size=3))
LINES = st.lists(
    st.one_of(
        st.fixed_dictionaries({"sku": SKUS, "quantity": QUANTITIES}),
        st.dictionaries(st.sampled_from(["sku", "quantity", "other"]), SKUS | QUANTITIES),
        st.integers(),
    ),
    max_size=55,
)
BODIES = st.one_of(
    st.fixed_dictionaries({"lines": LINES}),
    st.fixed_dictionaries({}, optional={"lines": LINES | st.none(), "note": st.text()}),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=5),
)


def serializer_lines(body) -> tuple[bool, list | None]:
    data = CheckoutInput(data=body)
    if not data.is_valid():
        return False, None
    lines = data.validated_data.get("lines")
    return True, None if lines is None else [(ln["sku"], ln["quantity"]) for ln in lines]


@settings(max_examples=600, deadline=None)
@given(BODIES)
def test_every_body_the_fast_path_takes_the_serializer_takes_with_the_same_lines(body):
    plain, lines = checkout_lines_fast(body)
    if plain:
        assert serializer_lines(body) == (True, lines)


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}]},
        {},
        {"lines": [{"sku": " spaced ", "quantity": 100}]},
    ],
)
def test_ordinary_bodies_take_the_fast_path(body):
    assert checkout_lines_fast(body) == serializer_lines(body)
    assert checkout_lines_fast(body)[0]


@pytest.mark.parametrize(
    "body",
    [
        {"lines": []},
        {"lines": [{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}]},
        {"lines": [{"sku": "A", "quantity": True}]},
        {"lines": [{"sku": "A\x00", "quantity": 1}]},
        {"lines": [{"sku": "", "quantity": 1}]},
        {"lines": [{"sku": "A", "quantity": 101}]},
        {"lines": None},
        ["lines"],
    ],
)
def test_anything_doubtful_is_left_to_the_serializer(body):
    assert checkout_lines_fast(body) == (False, None)
