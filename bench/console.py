"""The console's speed, in Chromium: a document check from the officer's Enter to the painted
answer, and the server time of every page a person can open.

Builds a demo database (``--records``, 1,000,000 by default), serves it with
``bordercheck serve``, signs in through the sign-in page as the demo's border officer and
bureau officer, and measures:

- the check page: ``--checks`` documents (1 % of them recorded) typed and sent with Enter,
  timed in the page from the key press to the frame after the answer is in the page; beside
  it, the same documents sent to ``POST /api/v1/screen`` by a program (the baseline);
- every page linked from each person's home page, plus the sign-in page, fetched ``--fetches``
  times over loopback with the person's session; beside it ``/healthz`` (the framework's floor).

    .venv/bin/python bench/console.py [--records 1000000] [--checks 300] [--fetches 100]

Needs Debian's Chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
from http_screening import free_port, serving

BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Installed in the page through the debugging protocol (the page's policy allows no inline
# script): the key press starts the clock, the answer's arrival and the next frame stop it.
TIMER = """() => {
  window.__bench = [];
  const field = document.querySelector('#document_number');
  field.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') { return; }
    const started = performance.now();
    const answer = document.querySelector('#answer');
    const seen = new MutationObserver(() => {
      if (!answer.querySelector('[data-result]')) { return; }
      seen.disconnect();
      requestAnimationFrame(() => window.__bench.push(performance.now() - started));
    });
    seen.observe(answer, {childList: true, subtree: true});
  }, {capture: true});
}"""
LOGIN = re.compile(r"^(\S+) / (\S+) \((\w+), ([A-Z]{3})\)$")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 0.95):6.1f} ms  "
        f"max {max(values):6.1f} ms  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--fetches", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-console-"))
    database = work / "bench.db"
    env = {
        **os.environ,
        "BORDERCHECK_DATABASE_URL": f"sqlite:///{database}",
        "BORDERCHECK_RATE_LIMIT_PER_SECOND": "0",
        "BORDERCHECK_LOG_LEVEL": "WARNING",
    }
    cli = str(BIN / "bordercheck")
    started = time.perf_counter()
    subprocess.run([cli, "demo", "--records", str(args.records), "--database", str(database),
                    "--no-serve"], env=env, check=True, capture_output=True)  # fmt: skip
    print(f"demo database with {args.records:,} records in {time.perf_counter() - started:.0f} s")
    env["BORDERCHECK_SETTINGS_FILE"] = str(work / "bordercheck.env")
    logins = {}
    for line in (work / "bench.logins").read_text().splitlines():
        found = LOGIN.match(line)
        if found:
            logins[found.group(3)] = (found.group(1), found.group(2), found.group(4))
    exported = work / "records.csv"
    subprocess.run([cli, "records", "export", str(exported)], env=env, check=True,
                   capture_output=True)  # fmt: skip
    rows = [line.split(",") for line in exported.read_text().splitlines()[1:5000]]
    recorded = [(row[0], row[1]) for row in rows if not row[5]][: max(1, args.checks // 100)]
    documents = [
        recorded[i // 100 % len(recorded)] if i % 100 == 0 else (f"Z{i:08d}", "DEU")
        for i in range(args.checks)
    ]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [cli, "serve", "--port", str(port), "--workers", str(args.workers)]
    with serving(serve, env, port, "/readyz"), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        username, password, _ = logins["border_officer"]
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "/")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("form[action='/sign-in'] button[type=submit]")
        page.goto(base + "/check")
        page.evaluate(TIMER)
        results: dict[str, int] = {}
        for number, country in documents:
            page.fill("#document_number", number)
            page.fill("#issuing_country", country)
            before = page.evaluate("window.__bench.length")
            page.focus("#document_number")
            page.keyboard.press("Enter")
            page.wait_for_function("(n) => window.__bench.length > n", arg=before)
            kind = page.get_attribute("#answer [data-result]", "data-result") or "?"
            results[kind] = results.get(kind, 0) + 1
        painted = page.evaluate("window.__bench")[5:]  # the first few warm the workers up

        token = httpx2.post(base + "/api/v1/auth/token", data={
            "grant_type": "password", "username": username, "password": password,
        }).json()["access_token"]  # fmt: skip
        api_times = []
        with httpx2.Client(base_url=base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {token}"}
            for number, country in documents:
                t = time.perf_counter()
                response = client.post("/api/v1/screen", headers=headers, json={
                    "document_number": number, "issuing_country": country})  # fmt: skip
                api_times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text
        api_times = api_times[5:]
        print(f"\ncheck page, Enter to painted answer ({results}):")
        print(f"  console  {summary(painted)}")
        print(f"  API      {summary(api_times)}   (POST /api/v1/screen from a program)")
        ratio = percentile(painted, 0.95) / percentile(api_times, 0.95)
        print(f"  ratio of p95: {ratio:.1f}x the API's")

        print("\npages, server time over loopback with the person's session:")
        floor = []
        with httpx2.Client(base_url=base, timeout=30) as client:
            for _ in range(args.fetches):
                t = time.perf_counter()
                client.get("/healthz")
                floor.append((time.perf_counter() - t) * 1000)
        print(f"  {'/healthz (floor)':32} {summary(floor)}")
        worst = 0.0
        for role, (user, secret, _) in sorted(logins.items()):
            person = browser.new_context()
            tab = person.new_page()
            tab.goto(base + "/")
            tab.fill("#username", user)
            tab.fill("#password", secret)
            tab.click("form[action='/sign-in'] button[type=submit]")
            tab.goto(base + "/home")
            paths = sorted({href for href in tab.eval_on_selector_all(
                "main a[href^='/'], nav a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
            ) if not href.startswith(("/docs", "/redoc", "/openapi"))})  # fmt: skip
            jar = {c["name"]: c["value"] for c in person.cookies()}
            with httpx2.Client(base_url=base, timeout=30, cookies=jar) as client:
                for path in paths:
                    times = []
                    for _ in range(args.fetches):
                        t = time.perf_counter()
                        response = client.get(path)
                        times.append((time.perf_counter() - t) * 1000)
                    assert response.status_code == 200, f"{role} {path}: {response.status_code}"
                    worst = max(worst, percentile(times, 0.95))
                    print(f"  {role + ' ' + path:32} {summary(times)}")
            person.close()
        print(
            f"  slowest page p95 {worst:.1f} ms = {worst / percentile(floor, 0.95):.1f}x /healthz"
        )
        browser.close()


if __name__ == "__main__":
    main()
