"""Whether this worker is stopping, known to its main process and every pool process alike.

One byte of memory shared with the pool processes, which are forked after this module is imported: it
is set when a warm (SIGTERM) or cold shutdown begins. A running job reads it between windows and is
handed back to the queue instead of holding up the stop; a pool process started while stopping does not
load the model it would never use, and a message taken while stopping goes back to the queue unclaimed.
"""

from __future__ import annotations

from multiprocessing.sharedctypes import RawValue
from typing import Any

from celery.signals import worker_shutting_down

_requested = RawValue("b", 0)


def requested() -> bool:
    return bool(_requested.value)


@worker_shutting_down.connect
def _note_shutdown(**_: Any) -> None:
    _requested.value = 1
