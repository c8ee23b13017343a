"""The screenshots in the user guides (docs/screenshots/), made again from the running console.

Builds a small demo world, serves it, and in Chromium signs in as each of the demo's people
and photographs each page of their menu, in English and in French (and the check page in
Arabic), at a laptop's width. A hit is made first so that the hit pages have a case to show.

    make screenshots      # or: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from http_screening import free_port, serving

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
LOGIN = re.compile(r"^(\S+) / (\S+) \((\w+), ([A-Z]{3})\)$")
LANGUAGES = ("en", "fr")
# Each page once, as seen by the person who uses it most.
PAGES = {
    "border_officer": ("/check",),
    "bureau_officer": ("/hits", "/records", "/messages", "/directory", "/manifests"),
    "admin": ("/admin", "/operations"),
    "analyst": ("/analysis",),
}


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_load_state()


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "sign-in"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{work / 'demo.db'}",
        "BORDERCHECK_LOG_LEVEL": "WARNING",
    }
    cli = str(BIN / "bordercheck")
    subprocess.run([cli, "demo", "--records", "5000", "--database", str(work / "demo.db"),
                    "--no-serve"], env=env, check=True, capture_output=True)  # fmt: skip
    env["BORDERCHECK_SETTINGS_FILE"] = str(work / "bordercheck.env")
    logins = {}
    for line in (work / "demo.logins").read_text().splitlines():
        found = LOGIN.match(line)
        if found:
            logins[found.group(3)] = (found.group(1), found.group(2), found.group(4))
    exported = work / "records.csv"
    subprocess.run([cli, "records", "export", str(exported)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    header, *rows = (line.split(",") for line in exported.read_text().splitlines()[:200])
    recorded = next(row for row in rows if row[header.index("blank")] != "true")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving([cli, "serve", "--port", str(port), "--workers", "1"], env, port, "/readyz"), \
            sync_playwright() as playwright:  # fmt: skip
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        shots = 0
        for language in LANGUAGES:
            for role, (username, password, _) in sorted(logins.items()):
                context = browser.new_context(
                    locale=language, viewport={"width": 1280, "height": 860},
                    extra_http_headers={"Accept-Language": language},
                )  # fmt: skip
                page = context.new_page()
                if role == "admin":
                    page.goto(base + "/")
                    page.screenshot(path=args.out / f"{language}-sign-in.png")
                    shots += 1
                sign_in(page, base, username, password)
                if role == "border_officer":
                    page.goto(base + "/check")
                    page.fill("#document_number", recorded[header.index("document_number")])
                    page.fill("#issuing_country", recorded[header.index("issuing_country")])
                    page.keyboard.press("Enter")
                    page.wait_for_selector("[data-result]")
                    page.screenshot(path=args.out / f"{language}-check-hit.png")
                    shots += 1
                for path in PAGES.get(role, ()):
                    page.goto(base + path)
                    page.screenshot(path=args.out / f"{language}-{slug(path)}.png")
                    shots += 1
                context.close()
        context = browser.new_context(locale="ar", viewport={"width": 1280, "height": 860},
                                      extra_http_headers={"Accept-Language": "ar"})  # fmt: skip
        page = context.new_page()
        username, password, _ = logins["border_officer"]
        sign_in(page, base, username, password)
        page.goto(base + "/check")
        page.screenshot(path=args.out / "ar-check.png")
        browser.close()
    print(f"{shots + 1} screenshots in {args.out}")


if __name__ == "__main__":
    main()
