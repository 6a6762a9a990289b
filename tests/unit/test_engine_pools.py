"""The engine's connection pools survive an interruption that lands inside their lock
(grader.engine.pools): measured, such a hold made an interrupted grade hang for good."""

from __future__ import annotations

import contextlib
import queue
import signal
import threading

import docker.transport.unixconn
import urllib3

import grader.engine.session  # noqa: F401  (installs the pools' queue, as the grader does)
from grader.engine.pools import InterruptSafeLifoQueue


def another_thread_can_take(lock: threading.RLock, wait_s: float = 5.0) -> bool:
    taken: list[bool] = []

    def take() -> None:
        got = lock.acquire(timeout=wait_s)
        taken.append(got)
        if got:
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join()
    return taken == [True]


def test_a_hold_left_by_an_interrupted_call_is_given_back_on_the_next_call() -> None:
    pool: InterruptSafeLifoQueue = InterruptSafeLifoQueue(4)
    pool.mutex.acquire()  # what an exception in Condition.__exit__ leaves: held, never released
    assert not another_thread_can_take(pool.mutex, wait_s=0.2)
    pool.put("connection", block=False)
    assert another_thread_can_take(pool.mutex)
    assert pool.get(block=False) == "connection"


def test_a_hold_is_given_back_when_the_call_itself_fails() -> None:
    pool: InterruptSafeLifoQueue = InterruptSafeLifoQueue(4)
    pool.mutex.acquire()
    pool.mutex.acquire()  # two levels, as a hold left twice would be
    with contextlib.suppress(queue.Empty):
        pool.get(block=False)
    assert another_thread_can_take(pool.mutex)


class _Interruption(Exception):
    pass


def test_interruptions_raised_inside_the_queues_methods_leave_its_lock_free() -> None:
    """A signal handler that raises (as Ctrl-C's does), fired every 30 µs of CPU while the
    pool is used: the plain LifoQueue ends with its lock held by nobody who will release it.
    (A CPU-time timer: pytest-timeout's own is the real-time one.)"""
    armed = False

    def handler(_signum: int, _frame: object) -> None:
        if armed:
            raise _Interruption

    pool: InterruptSafeLifoQueue = InterruptSafeLifoQueue(4)
    kept = signal.signal(signal.SIGVTALRM, handler)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0.0001, 0.00003)
    interrupted = 0
    try:
        for _ in range(50_000):
            # A plain Lock left held would block the next call for good, and a CPU-time
            # timer never fires in a blocked thread: asked with a timeout, unarmed.
            if not pool.mutex.acquire(timeout=5):
                break
            pool.mutex.release()
            try:
                armed = True
                try:
                    pool.put("connection", block=False)
                    pool.get(block=False)
                except (queue.Empty, queue.Full):
                    pass
                armed = False
            except _Interruption:
                armed = False
                interrupted += 1
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, kept)
    assert pool.mutex.acquire(timeout=5), f"left held after {interrupted} interruptions"
    pool.mutex.release()
    while True:  # the pool's own finalizer does this
        try:
            pool.get(block=False)
        except queue.Empty:
            break
    assert another_thread_can_take(pool.mutex), f"after {interrupted} interruptions"


def test_every_pool_the_engine_clients_make_uses_it() -> None:
    unix = docker.transport.unixconn.UnixHTTPConnectionPool(
        "http+docker://localhost", "/nonexistent.sock", 60
    )
    tcp = urllib3.HTTPConnectionPool("127.0.0.1", 2375)
    assert isinstance(unix.pool, InterruptSafeLifoQueue)
    assert isinstance(tcp.pool, InterruptSafeLifoQueue)
