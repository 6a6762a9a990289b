"""Starting a child process that Ctrl-C stops, wherever the test session itself was started."""

from __future__ import annotations

import signal


def interruptible() -> None:
    """``preexec_fn`` for a child that the test interrupts with SIGINT, as Ctrl-C would.

    A shell starts a background job (`make test &`, a job from a script or a CI runner)
    with SIGINT ignored, and children inherit that: Python then never raises
    KeyboardInterrupt, and an interrupted grade would just carry on. A terminal's
    foreground process has SIGINT at its default, which is what these tests are about.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
