"""The Rasa client's limit per server: places in flight, a waiting room of the same size, the deadline."""

from __future__ import annotations

import threading
import time

from yishi.rasa_client import WAITING, _Gate


def test_a_full_gate_lets_some_wait_until_the_deadline_and_turns_the_rest_away():
    gate = _Gate(2)
    assert gate.enter(time.monotonic() + 1) and gate.enter(time.monotonic() + 1)  # both places taken
    results = []
    waiters = [threading.Thread(target=lambda: results.append(gate.enter(time.monotonic() + 0.5)))
               for _ in range(WAITING * 2)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.1)  # all of them in the waiting room now
    assert gate.enter(time.monotonic() + 5) is False  # the room is full: turned away at once, not after 5 s
    gate.leave()  # one place frees: one waiter gets it, the others reach their deadline
    for waiter in waiters:
        waiter.join()
    assert sorted(results) == [False] * (WAITING * 2 - 1) + [True]
    assert gate.enter(time.monotonic()) is False  # two in flight again, and no time to wait


def test_a_passed_deadline_gets_no_place_even_when_one_is_free():
    gate = _Gate(1)
    assert gate.enter(time.monotonic() - 1) is True  # a free place is taken without waiting
    assert gate.enter(time.monotonic() - 1) is False
