"""What the browser tests share: Debian's Chromium driven by Playwright (nothing downloads a browser), where the
screenshots go, and the rule that a missing browser skips a test but fails it in CI (``CI`` set, as .ci/run runs,
after installing Chromium), so that CI never passes with its browser tests skipped."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("EM_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = pathlib.Path(os.environ.get("EM_BROWSER_ARTIFACTS", ROOT / "tests" / "artifacts"))
# Launch flags for Debian's chromium in a container (no sandbox as root, no GPU, small /dev/shm, no phoning home).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def missing(reason: str):
    """Skip with ``reason``; in CI, where .ci/run installs Chromium, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but this browser test cannot run: {reason}")
    pytest.skip(reason)


def require_browser():
    """Skip (or fail in CI), saying how to install what is missing, unless Chromium and Playwright are both here."""
    if not os.path.exists(CHROMIUM):
        missing(f"Chromium not found at {CHROMIUM}: install Debian's chromium (`apt-get install -y chromium`, "
                "as root; .ci/run does this) or set EM_CHROMIUM to a Chromium binary")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("Playwright for Python is not installed: `pip install playwright` (it is in "
                "requirements-test.txt); never `playwright install`: the tests use Debian's chromium")
