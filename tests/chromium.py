"""Debian's Chromium for the browser tests, driven by Playwright (which downloads none):
the executable, its flags, and a page in a throw-away profile."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Fail (never skip) without it: a missing browser must not pass as a green run."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed: `make browser` installs it (as root)")


class ChromiumPage:
    """A persistent Chromium context from Debian's package; ``with`` gives its page."""

    def __init__(self, playwright: Any, viewport: dict[str, int] | None = None) -> None:
        self.playwright = playwright
        self.viewport = viewport or {"width": 1400, "height": 900}
        self.profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"chromium-{secrets.token_hex(4)}"

    def __enter__(self) -> Any:
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=self.viewport,
        )
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def __exit__(self, *exc_info: object) -> None:
        self.context.close()
        shutil.rmtree(self.profile, ignore_errors=True)
