"""The records pages over HTTP, as a bureau officer's browser uses them, and their refusals."""

from __future__ import annotations

import re
import time
from typing import Any

from bordercheck import __version__
from bordercheck.auth.models import Role
from tests.signin import Api
from tests.web.conftest import Console

PASSPORT = {"document_type": "passport", "status": "stolen", "issuing_country": "DEU"}


def signed_in(api: Api, username: str = "officer.deu") -> Console:
    browser = Console(api)
    assert browser.sign_in(username).status_code == 303
    return browser


def add(browser: Console, number: str, **fields: str) -> str:
    response = browser.post(
        "/records/new", {"document_number": number, **PASSPORT, **fields}, page="/records/new"
    )
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    assert re.fullmatch(r"/records/\d+", location)
    return location


def edit(browser: Console, record: str, version: int, **fields: str) -> Any:
    return browser.post(
        f"{record}/edit", {"version": str(version), **fields}, page=f"{record}/edit"
    )


def test_an_officer_adds_a_record_reads_it_and_finds_it_by_number(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "C01X00T47", event_place="Berlin", holder_surname="Muster")
    page = browser.client.get(record)
    assert page.status_code == 200
    assert "C01X00T47" in page.text
    assert "Berlin" in page.text
    assert "Muster" in page.text
    assert "officer.deu" in page.text  # who recorded it, in the history
    found = browser.client.get("/records/find?number=c01x-00t47")
    assert found.status_code == 303
    assert found.headers["location"] == record
    listed = browser.client.get("/records?number_prefix=C01")
    assert "C01X00T47" in listed.text
    assert "C01X00T47" not in browser.client.get("/records?status=lost").text


def test_the_form_shows_the_service_errors_by_field(browser: Console) -> None:
    browser = signed_in(browser.api)
    sent = {"document_number": "", "document_type": "passport", "status": "stolen"}
    page = browser.post("/records/new", {**sent, "issuing_country": "DEU"}, page="/records/new")
    assert page.status_code == 422
    assert 'class="error-summary"' in page.text
    assert 'href="#document_number"' in page.text
    future = browser.post(
        "/records/new",
        {**PASSPORT, "document_number": "F0T0R3001", "event_date": "2999-01-01"},
        page="/records/new",
    )
    assert future.status_code == 422
    assert "in the future" in future.text
    holder = browser.post(
        "/records/new",
        {**PASSPORT, "document_number": "BL4NK0001", "blank": "true", "holder_surname": "X"},
        page="/records/new",
    )
    assert holder.status_code == 422
    assert 'href="#record"' in holder.text
    assert "a blank document has no holder" in holder.text
    add(browser, "D0UBL3001")
    twice = browser.post(
        "/records/new", {**PASSPORT, "document_number": "D0UBL3001"}, page="/records/new"
    )
    assert twice.status_code == 409
    assert "already recorded" in twice.text


def test_a_stale_change_shows_both_versions_and_is_redone_on_the_current_one(
    browser: Console,
) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "ST4L30001")
    base = {"document_number": "ST4L30001", **PASSPORT}
    assert edit(browser, record, 1, **{**base, "status": "lost"}).status_code == 303
    # A colleague's form, opened at version 1, is sent after the change above.
    stale = edit(browser, record, 1, **{**base, "event_place": "Hamburg"})
    assert stale.status_code == 409
    assert "Someone changed this record" in stale.text
    assert 'name="version" value="2"' in stale.text  # the form now carries the current version
    assert "Hamburg" in stale.text
    redone = edit(browser, record, 2, **{**base, "status": "lost", "event_place": "Hamburg"})
    assert redone.status_code == 303
    page = browser.client.get(record).text
    assert "Hamburg" in page
    assert "Version" in page
    assert re.search(r"<dt>Version</dt><dd>3</dd>", page)


def test_withdrawing_asks_a_reason_and_keeps_the_history(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "W1THDR001")
    page = browser.client.get(f"{record}/withdraw")
    assert page.status_code == 200
    assert 'name="reason"' in page.text
    empty = browser.post(f"{record}/withdraw", {"version": "1", "reason": " "}, page=record)
    assert empty.status_code == 422
    assert 'href="#reason"' in empty.text
    done = browser.post(
        f"{record}/withdraw", {"version": "1", "reason": "found at home"}, page=record
    )
    assert done.status_code == 303
    page = browser.client.get(record)
    assert 'data-record-state="withdrawn"' in page.text
    assert "found at home" in page.text
    assert "W1THDR001" not in browser.client.get("/records").text
    assert "W1THDR001" in browser.client.get("/records?include_withdrawn=true").text


def test_withholding_from_countries_is_saved_and_checked(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "W1THH3LD1")
    bad = browser.post(
        f"{record}/withheld-from", {"version": "1", "countries": "RUS ZZZ"}, page=record
    )
    assert bad.status_code == 422
    assert "ZZZ" in bad.text
    ok = browser.post(
        f"{record}/withheld-from", {"version": "1", "countries": "rus, blr"}, page=record
    )
    assert ok.status_code == 303
    page = browser.client.get(record).text
    assert "BLR RUS" in page


def test_pages_of_the_list_follow_the_cursor_and_sort_by_date(browser: Console) -> None:
    browser = signed_in(browser.api)
    headers = browser.api.bearer(Role.BUREAU_OFFICER, "DEU")
    records = [{"document_number": f"P4G3{n:05d}", **PASSPORT} for n in range(60)]
    response = browser.api.client.post(
        "/api/v1/records/bulk", headers=headers, json={"records": records}
    )
    assert response.status_code == 200, response.text
    first = browser.client.get("/records?number_prefix=P4G3").text
    assert "P4G300059" in first
    assert "P4G300000" not in first
    cursor = re.search(r'href="/records\?([^"]*cursor=[^"]+)" rel="next"', first)
    assert cursor is not None
    second = browser.client.get("/records?" + cursor.group(1).replace("&amp;", "&")).text
    assert "P4G300000" in second
    assert "P4G300059" not in second
    oldest = browser.client.get("/records?number_prefix=P4G3&oldest_first=true").text
    assert oldest.index("P4G300000") < oldest.index("P4G300001")


def test_an_import_with_a_bad_row_is_refused_whole_and_reported(browser: Console) -> None:
    browser = signed_in(browser.api)
    body = (
        "document_number,issuing_country,document_type,status\n"
        "1MP0RT001,DEU,passport,stolen\n"
        "1MP0RT002,DEU,spaceship,stolen\n"
    )
    report = import_file(browser, "lot.csv", body)
    assert 'data-import-state="rejected"' in report
    assert re.search(r'<tr data-line="3"><td>3</td><td>document_type</td>', report)
    assert "1MP0RT001" not in browser.client.get("/records").text  # nothing half-written
    rejects = re.search(r'href="(/records/imports/[0-9a-f]+/rejected)"', report)
    assert rejects is not None
    download = browser.client.get(rejects.group(1))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    lines = download.text.splitlines()
    assert lines[0].endswith(",rejected_because")
    assert len(lines) == 2
    assert lines[1].startswith("1MP0RT002,DEU,spaceship")


def test_an_import_skipping_bad_rows_writes_the_good_ones(browser: Console) -> None:
    browser = signed_in(browser.api)
    body = (
        '{"document_number": "J50N00001", "issuing_country": "DEU", '
        '"document_type": "passport", "status": "lost"}\n'
        "not json\n"
    )
    report = import_file(browser, "lot.jsonl", body, skip_invalid="true")
    assert 'data-import-state="done"' in report
    assert "1 added" in report
    assert '<tr data-line="2">' in report
    assert "J50N00001" in browser.client.get("/records").text
    # Another bureau cannot open this bureau's import.
    browser.api.add_user("officer.fra", Role.BUREAU_OFFICER, "FRA")
    other = signed_in(browser.api, "officer.fra")
    address = re.search(r'href="(/records/imports/[0-9a-f]+)/rejected"', report)
    assert address is not None
    assert other.client.get(address.group(1)).status_code == 404


def test_a_file_that_is_neither_csv_nor_json_lines_is_refused_on_the_form(
    browser: Console,
) -> None:
    browser = signed_in(browser.api)
    token = browser.csrf("/records/import")
    page = browser.client.post(
        "/records/import",
        data={"csrf_token": token},
        files={"file": ("lot.xlsx", b"PK", "application/octet-stream")},
    )
    assert page.status_code == 422
    assert 'href="#file"' in page.text


def import_file(browser: Console, name: str, body: str, **options: str) -> str:
    token = browser.csrf("/records/import")
    sent = browser.client.post(
        "/records/import",
        data={"csrf_token": token, **options},
        files={"file": (name, body.encode(), "text/plain")},
    )
    assert sent.status_code == 303, sent.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = browser.client.get(sent.headers["location"], headers={"HX-Request": "true"})
        assert page.status_code == 200
        if 'data-import-state="running"' not in page.text:
            assert "hx-trigger" not in page.text  # the page stops asking
            return str(page.text)
        assert 'hx-trigger="every 1s"' in page.text
        assert "<progress" in page.text
        time.sleep(0.05)
    raise AssertionError("the import did not end within 30 s")


def test_a_border_officer_is_refused_every_records_page(browser: Console) -> None:
    owner = signed_in(browser.api)
    record = add(owner, "B0RD3R001")
    border = signed_in(browser.api, "border.fra")
    for path in ("/records", "/records/new", record, f"{record}/edit", "/records/import"):
        page = border.client.get(path)
        assert page.status_code == 403, path
    assert (
        "/records"
        not in re.findall(r'<nav class="menu".*?</nav>', border.client.get("/home").text, re.S)[0]
    )
    refused = border.post(
        "/records/new", {"document_number": "B0RD3R002", **PASSPORT}, page="/check"
    )
    assert refused.status_code == 403


def test_another_bureau_may_not_read_or_change_a_record(browser: Console) -> None:
    owner = signed_in(browser.api)
    record = add(owner, "0TH3R0001")
    browser.api.add_user("officer.ita", Role.BUREAU_OFFICER, "ITA")
    other = signed_in(browser.api, "officer.ita")
    assert other.client.get(record).status_code == 403
    assert other.client.get(f"{record}/edit").status_code == 403
    change = edit(other, record, 1, document_number="0TH3R0001", **PASSPORT)
    assert change.status_code == 403
    assert "0TH3R0001" not in other.client.get("/records").text
    # An administrator reads and changes any country's records, as in the API.
    admin = signed_in(browser.api, "admin.xpo")
    assert admin.client.get(record).status_code == 200


def test_a_change_without_the_page_token_is_refused(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "CSRF00001")
    refused = browser.client.post(
        f"{record}/withdraw", data={"version": "1", "reason": "found", "csrf_token": "forged"}
    )
    assert refused.status_code == 403
    assert 'data-record-state="active"' in browser.client.get(record).text


def test_an_officer_confirms_a_record_and_follows_its_searches(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "R3V13W001")
    assert browser.post(f"{record}/review", {"version": "1"}, page=record).status_code == 303
    page = browser.client.get(record).text
    assert "Reviewed" in page
    assert browser.post(f"{record}/review", {"version": "1"}, page=record).status_code == 409
    assert 'data-watching="no"' in page
    assert browser.post(f"{record}/watch", {}, page=record).status_code == 303
    assert 'data-watching="yes"' in browser.client.get(record).text
    assert browser.post(f"{record}/unwatch", {}, page=record).status_code == 303
    assert 'data-watching="no"' in browser.client.get(record).text
    # An administrator reads the record but does not follow it for the bureau.
    admin = signed_in(browser.api, "admin.xpo")
    assert "data-watching" not in admin.client.get(record).text
    assert admin.post(f"{record}/watch", {}, page=record).status_code == 403


def test_a_large_import_shows_its_progress_until_its_report(browser: Console) -> None:
    browser = signed_in(browser.api)
    rows = "".join(f"L4RG3{n:05d},DEU,passport,lost\n" for n in range(30_000))
    token = browser.csrf("/records/import")
    sent = browser.client.post(
        "/records/import",
        data={"csrf_token": token},
        files={
            "file": (
                "large.csv",
                b"document_number,issuing_country,document_type,status\n" + rows.encode(),
                "text/csv",
            )
        },
    )
    assert sent.status_code == 303
    first = browser.client.get(sent.headers["location"])
    assert 'data-import-state="running"' in first.text
    assert re.search(r'<progress class="progress" max="30000" value="\d+"', first.text)
    report = import_file_report(browser, sent.headers["location"])
    assert "30,000 rows: 30,000 added" in report


def import_file_report(browser: Console, address: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = browser.client.get(address, headers={"HX-Request": "true"})
        if 'data-import-state="running"' not in page.text:
            return str(page.text)
        time.sleep(0.1)
    raise AssertionError("the import did not end within 120 s")


def test_the_record_forms_name_the_softwares_version_not_the_records(browser: Console) -> None:
    browser = signed_in(browser.api)
    record = add(browser, "V3RS10N01")
    for page in ("/records/new", f"{record}/edit"):
        text = browser.client.get(page).text
        assert f"bordercheck {__version__} ·" in text, page
        assert f"console.css?v={__version__}" in text, page
