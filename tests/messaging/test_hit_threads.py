"""A hit's thread: ``/hits/{id}/messages`` for its two bureaus, metadata for the centre."""

from __future__ import annotations

from bordercheck.auth.models import Role
from bordercheck.messaging.service import post_hit_event
from tests.factories import centre_notes
from tests.messaging.conftest import THREADS, make_hit
from tests.signin import Api


def hit(api: Api, owner: str = "DEU", querying: str = "FRA") -> int:
    with api.database.session(write=True) as session:
        return make_hit(session, owner, querying)


def test_both_bureaus_of_a_hit_read_and_write_its_thread(
    api: Api, deu: dict[str, str], fra: dict[str, str]
) -> None:
    hit_id = hit(api)
    with api.database.session(write=True) as session:
        post_hit_event(
            session,
            centre_notes(),
            hit_id=hit_id,
            bureaus=["DEU", "FRA"],
            text="answered: confirmed",
        )
    path = f"/api/v1/hits/{hit_id}/messages"
    written = api.client.post(path, headers=fra, json={"body": "Passport seized at CDG."})
    assert written.status_code == 201, written.text
    for headers in (deu, fra):
        thread = api.client.get(path, headers=headers).json()
        assert (thread["kind"], thread["hit_id"], thread["view"]) == ("hit", hit_id, "full")
        assert thread["participants"] == ["DEU", "FRA"]
        bodies = [m["body"] for m in thread["messages"]]
        assert bodies[-2:] == ["answered: confirmed", "Passport seized at CDG."]
        assert all(m["verified"] for m in thread["messages"])
        assert thread["messages"][-2]["system"] is True
    # The same thread is listed with the bureaus' others.
    assert thread["id"] in [t["id"] for t in api.client.get(THREADS, headers=deu).json()["threads"]]


def test_a_third_bureau_gets_404_and_the_secretariat_metadata(
    api: Api, deu: dict[str, str], ita: dict[str, str]
) -> None:
    hit_id = hit(api)
    path = f"/api/v1/hits/{hit_id}/messages"
    api.client.post(path, headers=deu, json={"body": "Please hold the traveller."})
    for response in (
        api.client.get(path, headers=ita),
        api.client.post(path, headers=ita, json={"body": "me too"}),
    ):
        assert response.status_code == 404
        assert response.json()["message"] == f"there is no hit {hit_id} of your bureau"
    assert api.client.get("/api/v1/hits/999999/messages", headers=ita).status_code == 404
    analyst = api.bearer(Role.ANALYST, "XPO")
    seen = api.client.get(path, headers=analyst).json()
    assert (seen["view"], seen["messages"], seen["participants"]) == (
        "metadata", None, ["DEU", "FRA"],
    )  # fmt: skip
    assert "traveller" not in str(seen)
    xpo = api.bearer(Role.BUREAU_OFFICER, "XPO")
    refused = api.client.post(path, headers=xpo, json={"body": "from the centre"})
    assert refused.status_code == 403
