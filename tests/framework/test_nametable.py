"""spec/nametable.NameTable: attribute access over named items (ApiPool.<api>.model, .client)."""

import copy

import pytest

from pymacaron.apipool import _Namespace


def test_a_name_is_its_item_and_the_table_lists_its_names():
    models = _Namespace("model", "shop", {"Pet": int, "Order": str})
    assert models.Pet is int and models.Order is str
    assert list(models) == ["Pet", "Order"]
    assert "Pet" in models and "Dog" not in models
    assert dir(models) == ["Order", "Pet"]


def test_a_missing_name_says_what_exists():
    models = _Namespace("model", "shop", {"Pet": int, "Order": str})
    with pytest.raises(
        AttributeError, match=r"^ApiPool\.shop\.model has no 'Pte' \(known: Order, Pet\)$"
    ):
        _ = models.Pte
    with pytest.raises(AttributeError, match=r"\(known: none\)$"):
        _ = _Namespace("model", "shop", {}).Pet


def test_dunder_names_are_not_looked_up():
    models = _Namespace("model", "shop", {"__deepcopy__": int, "Pet": int})
    with pytest.raises(AttributeError, match=r"^__deepcopy__$"):
        _ = models.__deepcopy__
    # copy asks the new, still empty object for __setstate__: no lookup, no recursion
    assert copy.copy(models).Pet is int
