"""Python's global generator read in place: the same state as ``random.getstate()``, at a fraction of its cost."""

from __future__ import annotations

import random

from reprotrack.kernel.capture import pins, randomness


def test_the_raw_state_is_getstate():
    assert randomness.raw_layout_ok()  # CPython: the in-place read is the one used
    saved = random.getstate()
    try:
        random.seed(7)
        random.gauss(0, 1)  # leaves a cached second deviate
        state = randomness.python_state()
        assert isinstance(state, randomness.RawState)
        assert randomness.state_tuple(state) == random.getstate()
        assert pins.python_state(randomness.state_tuple(state)) == pins.python_state(random.getstate())
        before = randomness._key("random", state)
        random.random()
        assert randomness._key("random", randomness.python_state()) != before
        random.setstate(randomness.state_tuple(state))
        assert randomness._key("random", randomness.python_state()) == before
    finally:
        random.setstate(saved)


def test_a_replaced_global_generator_falls_back_to_getstate(monkeypatch):
    class Custom(random.Random):
        pass

    monkeypatch.setattr(random, "_inst", Custom(3))
    state = randomness.python_state()
    assert isinstance(state, tuple) and state == random._inst.getstate()


def test_the_views_read_in_place_follow_a_replaced_generator(monkeypatch):
    import numpy as np

    randomness.python_state(), randomness.numpy_fingerprint()  # the views are made
    fresh = random.Random(11)
    monkeypatch.setattr(random, "_inst", fresh)  # another plain Random: read in place, from its own memory
    state = randomness.python_state()
    assert isinstance(state, randomness.RawState) and randomness.state_tuple(state) == fresh.getstate()
    fresh.random()
    assert randomness.state_tuple(randomness.python_state()) == fresh.getstate()

    replacement = np.random.RandomState(5)  # numpy's global generator replaced by another RandomState
    monkeypatch.setattr(np.random.mtrand, "_rand", replacement)
    raw = randomness.numpy_fingerprint()
    keys = replacement.get_state(legacy=False)["state"]["key"]
    assert raw[:len(keys) * 4] == keys.astype("<u4").tobytes()
    replacement.random_sample()
    assert randomness.numpy_fingerprint() != raw
