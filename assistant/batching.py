"""Training batches of similar length (rasa_ext/ensemble.py uses it for DIET).

DIET pads every message of a batch to the batch's longest, so one long story (100+ tokens) makes a whole batch of
short questions cost as much as long ones. Rasa orders an epoch's examples shuffled and class-balanced; here, within
each window of a few batches of that order, the examples are sorted by length, so a batch holds messages of similar
length, and then the full batches are shuffled so that lengths do not rise through the epoch. Classes stay mixed as
Rasa's balancing mixed them within the window.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# batches per window: wider windows pad less but draw a batch's classes from further apart in the balanced order
WINDOW = 8


def bucketed_order(lengths: Sequence[int], batch_size: int, rng: np.random.RandomState,
                   window: int = WINDOW) -> np.ndarray:
    """Positions 0..n-1 reordered so that each run of `batch_size` positions holds examples of similar length: sorted
    by length (stable) within windows of `window` batches, full batches shuffled with `rng`, a last partial batch
    kept last (Rasa's generator slices batch i as positions i*batch_size onwards)."""
    lengths = np.asarray(lengths).reshape(-1)
    n = len(lengths)
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    span = batch_size * max(window, 1)
    order = np.concatenate([start + np.argsort(lengths[start:start + span], kind="stable")
                            for start in range(0, n, span)]) if n else np.arange(0)
    full = n // batch_size
    batches = order[:full * batch_size].reshape(full, batch_size) if full else order[:0].reshape(0, batch_size)
    shuffled = batches[rng.permutation(full)].reshape(-1) if full else order[:0]
    return np.concatenate([shuffled, order[full * batch_size:]])
