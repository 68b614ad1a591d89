"""Yishi's actions with one fault injected, for the slow-action isolation test only.

`rasa run actions --actions tests.e2e.slow_actions` registers every action of the `actions`
package; catalogue calls of senders starting with "slow-" first sleep SLOW_S in their worker thread.
"""

from __future__ import annotations

import importlib
import pkgutil
import time

import actions
from actions import catalogue_access

SLOW_PREFIX, SLOW_S = "slow-", 4.0

for module in pkgutil.iter_modules(actions.__path__):
    importlib.import_module(f"actions.{module.name}")

_call = catalogue_access.call


async def _slow_call(sender_id, work, *args):
    if sender_id and sender_id.startswith(SLOW_PREFIX):
        def slow(records, *rest):
            time.sleep(SLOW_S)
            return work(records, *rest)

        return await _call(sender_id, slow, *args)
    return await _call(sender_id, work, *args)


catalogue_access.call = _slow_call
