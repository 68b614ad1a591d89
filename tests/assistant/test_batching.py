import numpy as np
import pytest

from assistant.batching import bucketed_order


def padded_cost(lengths, order, batch_size):
    ordered = np.asarray(lengths)[order]
    return sum(len(ordered[i:i + batch_size]) * ordered[i:i + batch_size].max() for i in range(0, len(ordered), batch_size))


def test_every_example_is_kept_once():
    lengths = np.random.RandomState(1).randint(1, 120, size=1003)
    order = bucketed_order(lengths, 32, np.random.RandomState(7))
    assert sorted(order.tolist()) == list(range(1003))


def test_batches_pad_much_less_than_the_shuffled_order():
    rng = np.random.RandomState(3)
    lengths = np.where(rng.rand(4000) < 0.1, rng.randint(60, 140, size=4000), rng.randint(3, 25, size=4000))
    plain = padded_cost(lengths, np.arange(4000), 64)
    bucketed = padded_cost(lengths, bucketed_order(lengths, 64, np.random.RandomState(7)), 64)
    assert bucketed < 0.5 * plain


def test_a_window_keeps_its_examples_and_the_partial_batch_stays_last():
    lengths = list(range(20, 0, -1)) + [50, 40, 30]          # 23 examples, batches of 4: 5 full, 3 left
    order = bucketed_order(lengths, 4, np.random.RandomState(0), window=2)
    # windows of 8 positions: 0-7, 8-15, 16-22; each full batch comes from one window
    full = order[:20].reshape(5, 4)
    for batch in full:
        assert len({position // 8 for position in batch}) == 1
    assert set(order[20:].tolist()) <= set(range(16, 23))
    # within a window the shortest come first: positions 16-22 sorted by length leave the longest (50) last
    assert lengths[order[-1]] == 50


def test_the_same_seed_gives_the_same_order():
    lengths = np.random.RandomState(5).randint(1, 80, size=500)
    first = bucketed_order(lengths, 16, np.random.RandomState(42))
    again = bucketed_order(lengths, 16, np.random.RandomState(42))
    assert (first == again).all()


def test_a_batch_size_of_zero_is_refused():
    with pytest.raises(ValueError):
        bucketed_order([3, 4], 0, np.random.RandomState(0))
