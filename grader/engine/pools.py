"""Connection pools that a Ctrl-C cannot lock up.

Every engine call goes through a urllib3 connection pool, whose free connections wait
in a ``queue.LifoQueue``. The queue guards itself with ``threading.Condition``, whose
``__enter__`` and ``__exit__`` are Python code: an exception raised by a signal handler
(KeyboardInterrupt for Ctrl-C, :class:`grader.errors.GradingInterrupted` for SIGTERM)
can land after the lock is taken and before it is given back. The lock is then held for
good, and the next call through that pool waits for it forever: the clean-up that
follows the interruption (removing the grade's containers through the same client), or
the pool's own finalizer when the client is collected. Measured: a grade interrupted
during its readiness polling hung that way, its containers removed but the process
never ending. With about forty pool operations a second while polling, an interrupt
lands in that window often enough to see.

:class:`InterruptSafeLifoQueue` keeps the queue's behaviour and makes such a hold
harmless: its lock is reentrant, and a hold that an interruption left behind is given
back when the interruption leaves the queue's method, or, if a second signal cut that
short too, when the same thread next uses the queue. No caller holds the lock between
calls, so any hold found then is a leftover; this assumes nothing calls into the same
queue from inside its own ``get``/``put``, which holds here: the grader's signal handlers
only raise, and a pool's finalizer runs once nothing uses the pool. :func:`install` makes
it the queue of every urllib3 pool in the process (``ConnectionPool.QueueCls``, urllib3's
hook for it), the docker SDK's and testcontainers' included.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import urllib3.connectionpool


class InterruptSafeLifoQueue(queue.LifoQueue):  # type: ignore[type-arg]
    """A ``LifoQueue`` whose lock an exception from a signal handler cannot leave held."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        # The same lock shared by the three conditions, as queue.Queue does, but an
        # RLock: it knows its owner, so a leftover hold can be found and given back.
        self.mutex = threading.RLock()  # type: ignore[assignment]
        self.not_empty = threading.Condition(self.mutex)
        self.not_full = threading.Condition(self.mutex)
        self.all_tasks_done = threading.Condition(self.mutex)

    def _give_back_leftover_hold(self) -> None:
        if self.mutex._is_owned():  # type: ignore[attr-defined]
            self.mutex._release_save()  # type: ignore[attr-defined]  # every level at once

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        self._give_back_leftover_hold()
        try:
            return super().get(block, timeout)
        except BaseException:
            self._give_back_leftover_hold()
            raise

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self._give_back_leftover_hold()
        try:
            super().put(item, block, timeout)
        except BaseException:
            self._give_back_leftover_hold()
            raise


def install() -> None:
    """Make :class:`InterruptSafeLifoQueue` the queue of every urllib3 pool made from now
    on (idempotent)."""
    urllib3.connectionpool.ConnectionPool.QueueCls = InterruptSafeLifoQueue  # type: ignore[misc]
