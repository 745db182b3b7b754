"""The README's picture: a lab page of docs/site/ in headless Chromium, from its title down to
its player, as docs/images/lab-page.png. In a checkout: .venv/bin/python scripts/site-picture.py
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cdp_browser import Browser, file_url  # noqa: E402

PAGE = ROOT / "docs" / "site" / "custom-bridge.html"
OUT = ROOT / "docs" / "images" / "lab-page.png"


def main() -> None:
    with Browser() as browser:
        session, report = browser.open(file_url(PAGE), settle=1.5)
        if report.errors:
            sys.exit(f"{PAGE}: {report.errors[0]}")
        size = {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}
        browser.send("Emulation.setDeviceMetricsOverride", size, session)
        box = browser.evaluate(
            session,
            "(() => { const a = document.querySelector('h1').getBoundingClientRect();"
            " const b = document.querySelector('.ap-player').getBoundingClientRect();"
            " return {y: a.top + scrollY - 16, bottom: b.bottom + scrollY + 16}; })()",
        )
        clip = {
            "x": 0,
            "y": box["y"],
            "width": 1280,
            "height": box["bottom"] - box["y"],
            "scale": 1,
        }
        shot = browser.send(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session,
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(base64.b64decode(shot["data"]))
    print(OUT)


if __name__ == "__main__":
    main()
