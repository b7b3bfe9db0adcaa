"""The PDF appendix: headless Chromium prints the HTML page, with networking cut off."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from tyokyky_eval.i18n import t

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


#: Chromium flags that cut it off the network: every request (loopback included, ``<-loopback>``)
#: goes to a proxy on a closed port, and every host name resolves to nothing. The appendix is one
#: self-contained page, so printing needs no network; its Content-Security-Policy forbids remote
#: loads as well (two independent locks: a payload in the data must get past both).
OFFLINE_FLAGS = ("--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                 "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-domain-reliability",
                 "--no-pings", "--disable-client-side-phishing-detection", "--dns-prefetch-disable",
                 "--disable-features=NetworkPrediction,OptimizationHints,MediaRouter,DialMediaRouteProvider")


def chromium_command(browser: str, profile: Path, *args: str) -> list[str]:
    """Headless Chromium without network access (``OFFLINE_FLAGS``), no sandbox (containers, root)
    and a throwaway profile folder."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", *OFFLINE_FLAGS,
            "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]


def print_pdf(html_path: Path, pdf_path: Path, language: str, timeout: int = 180) -> tuple[bool, str]:
    """Print the HTML to PDF with headless Chromium; returns (printed, message when skipped)."""
    browser = find_chromium()
    if browser is None:
        return False, t("appendix.pdf_skipped_no_chromium", language)
    with tempfile.TemporaryDirectory(prefix="tyokyky-chromium-") as profile:
        command = chromium_command(browser, Path(profile), "--no-pdf-header-footer",
                                   f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri())
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = str(exc)
    if pdf_path.is_file() and pdf_path.stat().st_size > 0:
        return True, ""
    return False, t("appendix.pdf_failed", language, reason=reason)
