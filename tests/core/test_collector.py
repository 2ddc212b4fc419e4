"""The cycle collector held off for a bulk read, and always turned back on after it."""

from __future__ import annotations

import gc

import pytest

from dsr.core import collector


@pytest.fixture(autouse=True)
def _collector_on_after():
    yield
    gc.enable()


def test_the_collector_is_off_in_the_block_and_on_after_it():
    assert gc.isenabled()
    with collector.held_off():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_back_on_when_the_block_fails():
    with pytest.raises(ValueError), collector.held_off():
        raise ValueError("a pack that could not be built")
    assert gc.isenabled()


def test_a_caller_that_had_turned_it_off_keeps_it_off():
    gc.disable()
    with collector.held_off():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_an_inner_block_leaves_it_off_for_the_outer_one():
    with collector.held_off():
        with collector.held_off():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
