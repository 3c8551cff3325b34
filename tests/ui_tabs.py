"""Browser tabs on a running `scale up` (tests/browser): a Playwright page that records the
console errors and uncaught exceptions it sees."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.scale_up import Scale

# Every browser test waits at most this long for one thing to show (the machine may be busy).
UI_TIMEOUT_MS = 30_000


@dataclass
class Tab:
    """A browser page plus the console errors and uncaught exceptions it has seen."""

    page: Any
    errors: list[str]


def open_tab(browser: Any, scale: Scale, *, signed_in: bool, viewport: dict | None = None) -> Tab:
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, base_url=scale.url)
    if signed_in:
        context.add_init_script(f"localStorage.setItem('scale.token', {json.dumps(scale.token)})")
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return Tab(page, errors)
