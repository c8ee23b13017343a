"""``/messages`` over HTTP: threads, who reads what, receipts, attachments."""

from __future__ import annotations

from typing import Any

import pytest

from bordercheck.auth.models import Role
from tests.messaging.conftest import PDF, PNG, THREADS, b64, start_thread
from tests.signin import Api, open_api


def test_bureaus_start_a_thread_write_and_read_it(
    api: Api, deu: dict[str, str], fra: dict[str, str], ita: dict[str, str]
) -> None:
    thread = start_thread(api, deu, recipients=["fra", "ITA"])
    assert thread["participants"] == ["DEU", "FRA", "ITA"]
    assert (thread["view"], thread["kind"], thread["subject"]) == (
        "full", "free", "Forged visas, Frankfurt",
    )  # fmt: skip
    assert thread["created_by"] == "officer.deu"
    [first] = thread["messages"]
    assert first["sender_bureau"] == "DEU"
    assert first["verified"] is True
    path = f"{THREADS}/{thread['id']}"
    reply = api.client.post(path, headers=fra, json={"body": "We hold two of them."})
    assert reply.status_code == 201, reply.text
    assert (reply.json()["sender_user"], reply.json()["verified"]) == ("officer.fra", True)
    seen = api.client.get(path, headers=ita).json()
    assert [m["body"] for m in seen["messages"]] == [first["body"], "We hold two of them."]
    assert seen["message_count"] == 2
    listed = api.client.get(THREADS, headers=fra).json()["threads"]
    assert [(t["id"], t["subject"], t["unread"]) for t in listed] == [
        (thread["id"], "Forged visas, Frankfurt", 1)
    ]
    assert "messages" not in listed[0] or listed[0]["messages"] is None


def test_read_receipts_name_the_first_reader_of_each_bureau(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    thread = start_thread(api, deu)
    path = f"{THREADS}/{thread['id']}"
    second = api.client.post(path, headers=deu, json={"body": "And a fourth."}).json()
    first_id = thread["messages"][0]["id"]
    read = api.client.post(f"{path}/read", headers=fra, json={"up_to": first_id})
    assert read.json() == {"read": 1}
    assert api.client.get(THREADS, headers=fra).json()["threads"][0]["unread"] == 1
    later = api.bearer(Role.BUREAU_OFFICER, "FRA", name="other.fra")
    assert api.client.post(f"{path}/read", headers=later).json() == {"read": 1}
    assert api.client.post(f"{path}/read", headers=later).json() == {"read": 0}
    messages = api.client.get(path, headers=deu).json()["messages"]
    by_id = {m["id"]: m["read_by"] for m in messages}
    assert [(r["bureau"], r["user"]) for r in by_id[first_id]] == [("FRA", "officer.fra")]
    assert [(r["bureau"], r["user"]) for r in by_id[second["id"]]] == [("FRA", "other.fra")]
    # A bureau's own messages need no receipt from itself.
    assert api.client.post(f"{path}/read", headers=deu).json() == {"read": 0}


def test_a_bureau_outside_the_thread_gets_404_as_if_it_did_not_exist(
    api: Api, deu: dict[str, str], ita: dict[str, str]
) -> None:
    thread = start_thread(api, deu)
    path = f"{THREADS}/{thread['id']}"
    message_id = thread["messages"][0]["id"]
    for response in (
        api.client.get(path, headers=ita),
        api.client.post(path, headers=ita, json={"body": "let me in"}),
        api.client.get(f"{path}/messages/{message_id}", headers=ita),
        api.client.post(f"{path}/read", headers=ita),
    ):
        assert response.status_code == 404
        assert response.json()["message"] == f"there is no thread {thread['id']} of your bureau"
    missing = api.client.get(f"{THREADS}/999999", headers=ita)
    assert missing.json()["message"] == "there is no thread 999999 of your bureau"
    assert api.client.get(THREADS, headers=ita).json() == {"threads": []}


@pytest.mark.parametrize(
    ("role", "bureau"),
    [(Role.BUREAU_OFFICER, "XPO"), (Role.ANALYST, "XPO"), (Role.ADMIN, "XPO")],
)
def test_the_secretariat_and_administrators_see_metadata_only(
    api: Api, deu: dict[str, str], role: Role, bureau: str
) -> None:
    thread = start_thread(api, deu)
    overseer = api.bearer(role, bureau)
    seen = api.client.get(f"{THREADS}/{thread['id']}", headers=overseer)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["view"] == "metadata"
    assert (body["participants"], body["message_count"]) == (["DEU", "FRA"], 1)
    assert (body["subject"], body["messages"], body["created_by"]) == (None, None, None)
    assert "Frankfurt" not in seen.text
    assert "CDG" not in seen.text
    listed = api.client.get(THREADS, headers=overseer).json()["threads"]
    assert [(t["id"], t["view"], t["subject"]) for t in listed] == [
        (thread["id"], "metadata", None)
    ]
    message = api.client.get(
        f"{THREADS}/{thread['id']}/messages/{thread['messages'][0]['id']}", headers=overseer
    )
    assert message.status_code == 403
    assert "only the bureaus taking part read its messages" in message.json()["message"]
    post = api.client.post(f"{THREADS}/{thread['id']}", headers=overseer, json={"body": "hi"})
    assert post.status_code == 403


def test_the_secretariat_reads_threads_it_takes_part_in(api: Api, deu: dict[str, str]) -> None:
    thread = start_thread(api, deu, recipients=["XPO"])
    xpo = api.bearer(Role.BUREAU_OFFICER, "XPO")
    seen = api.client.get(f"{THREADS}/{thread['id']}", headers=xpo).json()
    assert seen["view"] == "full"
    assert seen["subject"] == "Forged visas, Frankfurt"


@pytest.mark.parametrize(
    ("role", "bureau"),
    [(Role.BORDER_OFFICER, "DEU"), (Role.TRAINER, "DEU"), (Role.ANALYST, "DEU")],
)
def test_border_officers_trainers_and_national_analysts_have_no_messaging(
    api: Api, role: Role, bureau: str
) -> None:
    headers = api.bearer(role, bureau)
    listed = api.client.get(THREADS, headers=headers)
    assert listed.status_code == 403
    assert "messages are for bureau officers" in listed.json()["message"]
    started = api.client.post(
        THREADS, headers=headers, json={"subject": "s", "recipients": ["FRA"], "body": "b"}
    )
    assert started.status_code == 403
    assert api.client.get(THREADS).status_code == 401


def test_a_thread_needs_known_recipients_a_subject_and_a_body(
    api: Api, deu: dict[str, str]
) -> None:
    unknown = api.client.post(
        THREADS, headers=deu, json={"subject": "s", "recipients": ["ESP"], "body": "b"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["message"] == "recipients: there is no bureau ESP"
    alone = api.client.post(
        THREADS, headers=deu, json={"subject": "s", "recipients": ["DEU"], "body": "b"}
    )
    assert alone.json()["message"] == "recipients: name another bureau"
    empty = api.client.post(
        THREADS, headers=deu, json={"subject": "  ", "recipients": ["FRA"], "body": "b"}
    )
    assert empty.json()["message"] == "subject: must not be empty"
    missing = api.client.post(THREADS, headers=deu, json={"subject": "s", "recipients": ["FRA"]})
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "body")


def test_attachments_travel_sealed_and_come_back_as_downloads(
    api: Api, deu: dict[str, str], fra: dict[str, str], ita: dict[str, str]
) -> None:
    thread = start_thread(
        api,
        deu,
        attachments=[
            {"filename": "report.pdf", "content_type": "application/pdf", "content": b64(PDF)},
            {"filename": "photo.png", "content_type": "image/png", "content": b64(PNG)},
        ],
    )
    [message] = thread["messages"]
    assert message["verified"] is True
    files = message["attachments"]
    assert [(f["filename"], f["content_type"], f["size"]) for f in files] == [
        ("report.pdf", "application/pdf", len(PDF)),
        ("photo.png", "image/png", len(PNG)),
    ]
    url = f"{THREADS}/{thread['id']}/messages/{message['id']}/attachments/{files[0]['id']}"
    download = api.client.get(url, headers=fra)
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''report.pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert api.client.get(url, headers=ita).status_code == 404
    xpo = api.bearer(Role.ANALYST, "XPO")
    assert api.client.get(url, headers=xpo).status_code == 403


def _post_file(api: Api, headers: dict[str, str], thread_id: int, **attachment: str) -> Any:
    return api.client.post(
        f"{THREADS}/{thread_id}",
        headers=headers,
        json={"body": "see attached", "attachments": [attachment]},
    )


def test_attachments_of_the_wrong_type_size_or_content_are_refused_by_name(
    fresh_url: str,
) -> None:
    with open_api(fresh_url, bureaus=("DEU", "FRA"), message_attachment_max_bytes=1024) as api:
        deu = api.bearer(Role.BUREAU_OFFICER, "DEU")
        thread_id = start_thread(api, deu)["id"]
        cases = [
            ({"filename": "big.pdf", "content_type": "application/pdf",
              "content": b64(PDF + b"0" * 1024)},
             413, "attachments.0: 'big.pdf' is 1,"),
            ({"filename": "fake.pdf", "content_type": "application/pdf", "content": b64(PNG)},
             422, "attachments.0.content: is not a application/pdf file"),
            ({"filename": "x.docx", "content_type": "application/msword", "content": b64(PDF)},
             422, "attachments.0.content_type: 'application/msword' is not accepted"),
            ({"filename": "run.pdf", "content_type": "application/pdf",
              "content": b64(b"MZ\x90\x00" + PDF)},
             422, "attachments.0.content: executable files and scripts are not accepted"),
            ({"filename": "tool.exe", "content_type": "text/plain", "content": b64(b"hello")},
             422, "attachments.0.content: executable files and scripts are not accepted"),
            ({"filename": "../../etc/passwd", "content_type": "text/plain",
              "content": b64(b"root")},
             422, "attachments.0.filename: must be 1 to 200 characters"),
            ({"filename": "a.txt", "content_type": "text/plain", "content": "not base64!"},
             422, "attachments.0.content: is not valid base64"),
            ({"filename": "invoice.hta", "content_type": "text/plain", "content": b64(b"<p>")},
             422, "attachments.0.content: executable files and scripts are not accepted"),
            ({"filename": "run.bat.", "content_type": "text/plain", "content": b64(b"dir")},
             422, "attachments.0.filename: must not begin or end with a space, or end with a dot"),
        ]  # fmt: skip
        for attachment, status, message in cases:
            response = _post_file(api, deu, thread_id, **attachment)
            assert response.status_code == status, (attachment["filename"], response.text)
            assert response.json()["message"].startswith(message), response.text
        thread = api.client.get(f"{THREADS}/{thread_id}", headers=deu).json()
        assert thread["message_count"] == 1
