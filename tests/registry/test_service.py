"""Records: who may change them, versions, duplicates, withdrawal, history, the feed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from bordercheck.auth.actors import Actor
from bordercheck.auth.models import Role
from bordercheck.errors import Conflict, DuplicateRecord, Forbidden, StaleVersion, ValidationFailed
from bordercheck.registry import service
from bordercheck.registry.feed import changes_since, last_sequence
from bordercheck.registry.schemas import RecordFields
from tests.factories import ADMIN, fields, keyed_database, make_bureau, officer


@pytest.fixture(autouse=True)
def bureaus(session: Session) -> None:
    for code in ("DEU", "FRA"):
        make_bureau(session, code)


def test_created_record_starts_at_version_one_with_a_review_date_ten_years_on(
    session: Session,
) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    assert record.version == 1
    assert record.active
    assert record.created_by == "officer.deu"
    assert record.review_due == service.review_due(date.today(), 10)
    assert record.type_family == "passport"


def test_only_the_issuing_countrys_bureau_adds_its_records(session: Session) -> None:
    with pytest.raises(Forbidden, match="bureau FRA may not change records issued by DEU"):
        service.create_record(session, officer("FRA"), fields())


@pytest.mark.parametrize("role", [Role.BORDER_OFFICER, Role.ANALYST, Role.TRAINER])
def test_roles_other_than_bureau_officer_and_admin_never_write(
    session: Session, role: Role
) -> None:
    with pytest.raises(Forbidden):
        service.create_record(session, Actor("someone", role, "DEU"), fields())


def test_another_bureau_cannot_change_or_withdraw_a_record(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    with pytest.raises(Forbidden):
        service.update_record(session, officer("FRA"), record.id, 1, {"status": "lost"})
    with pytest.raises(Forbidden):
        service.withdraw_record(session, officer("FRA"), record.id, 1, "found")


def test_the_same_document_twice_is_refused(session: Session) -> None:
    first = service.create_record(session, officer("DEU"), fields())
    with pytest.raises(DuplicateRecord, match=f"record {first.id}"):
        # Same number written differently, another passport type: same family, same document.
        service.create_record(
            session,
            officer("DEU"),
            fields(document_number="c01x-00t47", document_type="emergency_passport"),
        )


def test_same_number_in_another_type_family_is_another_document(session: Session) -> None:
    service.create_record(session, officer("DEU"), fields())
    card = service.create_record(session, officer("DEU"), fields(document_type="identity_card"))
    assert card.type_family == "identity"


def test_merge_turns_a_duplicate_into_a_new_version(session: Session) -> None:
    first = service.create_record(session, officer("DEU"), fields(status="lost"))
    merged = service.create_record(session, officer("DEU"), fields(status="stolen"), merge=True)
    assert merged.id == first.id
    assert merged.version == 2
    assert merged.status == "stolen"


def test_update_needs_the_current_version(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    service.update_record(session, officer("DEU", "anna"), record.id, 1, {"status": "lost"})
    with pytest.raises(StaleVersion, match="at version 2, not 1"):
        service.update_record(session, officer("DEU", "ben"), record.id, 1, {"event_place": "BONN"})
    assert service.get_record(session, record.id).event_place == "BERLIN"


def test_update_validates_the_result(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    with pytest.raises(ValidationFailed) as caught:
        service.update_record(session, officer("DEU"), record.id, 1, {"holder_nationality": "XX"})
    assert caught.value.errors[0].field == "holder_nationality"


def test_an_update_that_changes_nothing_keeps_the_version(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    same = service.update_record(session, officer("DEU"), record.id, 1, {"status": "stolen"})
    assert same.version == 1


def test_withdrawing_keeps_the_history_and_frees_the_document(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    service.update_record(session, officer("DEU"), record.id, 1, {"status": "lost"})
    withdrawn = service.withdraw_record(session, officer("DEU"), record.id, 2, "document recovered")
    assert not withdrawn.active
    entries = service.history(session, record.id)
    assert [(e["version"], e["kind"]) for e in entries] == [
        (1, "created"),
        (2, "updated"),
        (3, "withdrawn"),
    ]
    assert entries[0]["data"]["status"] == "stolen"
    assert entries[1]["data"]["status"] == "lost"
    assert entries[2]["data"]["withdrawal_reason"] == "document recovered"
    # The same document can be reported again later.
    again = service.create_record(session, officer("DEU"), fields())
    assert again.id != record.id


def test_withdrawal_needs_a_reason(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    with pytest.raises(ValidationFailed, match="reason"):
        service.withdraw_record(session, officer("DEU"), record.id, 1, "  ")


def test_every_change_appends_to_the_feed_without_gaps(session: Session) -> None:
    start = last_sequence(session)
    record = service.create_record(session, officer("DEU"), fields())
    service.update_record(session, officer("DEU"), record.id, 1, {"status": "lost"})
    service.withdraw_record(session, officer("DEU"), record.id, 2, "recovered")
    entries = changes_since(session, start)
    assert [e.seq for e in entries] == [start + 1, start + 2, start + 3]
    assert [(e.kind, e.version, e.active, e.status) for e in entries] == [
        ("created", 1, True, "stolen"),
        ("updated", 2, True, "lost"),
        ("withdrawn", 3, False, "lost"),
    ]
    assert changes_since(session, start + 2)[0].kind == "withdrawn"


def test_overlapping_blank_ranges_are_refused(session: Session) -> None:
    def blank_range(first: str, last: str) -> RecordFields:
        return fields(
            document_number=first, serial_end=last, issuing_country="FRA", blank=True,
            holder_surname=None, holder_given_names=None, holder_birth_date=None,
            holder_nationality=None,
        )  # fmt: skip

    service.create_record(session, officer("FRA"), blank_range("X0001200", "X0001699"))
    with pytest.raises(DuplicateRecord):
        service.create_record(session, officer("FRA"), blank_range("X0001650", "X0001800"))
    other = service.create_record(session, officer("FRA"), blank_range("X0001700", "X0001800"))
    assert other.serial_end == "X0001800"


def test_records_past_their_review_date_are_flagged_and_review_moves_it(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    later = record.review_due + timedelta(days=1)
    assert record in service.overdue(session, later)
    reviewed = service.mark_reviewed(session, officer("DEU"), record.id, 1, today=later)
    assert (reviewed.version, reviewed.review_due) == (2, service.review_due(later, 10))
    assert record not in service.overdue(session, later)


def test_admin_may_act_for_any_bureau(session: Session) -> None:
    record = service.create_record(
        session, ADMIN, fields(issuing_country="FRA", holder_nationality="FRA")
    )
    assert record.issuing_country == "FRA"


def test_two_officers_updating_at_once_cannot_overwrite_each_other(fresh_url: str) -> None:
    database = keyed_database(fresh_url)
    with database.session(write=True) as setup:
        make_bureau(setup, "DEU")
        record_id = service.create_record(setup, officer("DEU"), fields()).id
    # Both officers read version 1; the first to commit wins, the second is told why.
    first = database.session(write=False)
    first_session = first.__enter__()
    service.update_record(first_session, officer("DEU", "anna"), record_id, 1, {"status": "lost"})
    first.__exit__(None, None, None)
    with pytest.raises(StaleVersion), database.session(write=True) as second:
        service.update_record(second, officer("DEU", "ben"), record_id, 1, {"event_place": "BONN"})
    with database.session() as check:
        record = service.get_record(check, record_id)
        assert (record.version, record.status, record.event_place) == (2, "lost", "BERLIN")
    database.dispose()


def test_a_withdrawn_record_is_not_changed_any_more(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    service.withdraw_record(session, officer("DEU"), record.id, 1, "recovered")
    with pytest.raises(Conflict, match="is withdrawn"):
        service.update_record(session, officer("DEU"), record.id, 2, {"status": "lost"})
    with pytest.raises(Conflict, match="is withdrawn"):
        service.withdraw_record(session, officer("DEU"), record.id, 2, "again")


def test_an_owner_withholds_a_record_from_some_countries(session: Session) -> None:
    record = service.create_record(session, officer("DEU"), fields())
    withheld = service.withhold(session, officer("DEU"), record.id, 1, ["fr", "ITA", "FRA"])
    assert (withheld.version, service.withheld_from(withheld)) == (2, {"FRA", "ITA"})
    last = changes_since(session, last_sequence(session) - 1)[0]
    assert (last.record_id, last.restricted) == (record.id, True)
    with pytest.raises(ValidationFailed, match=r"countries\.0"):
        service.withhold(session, officer("DEU"), record.id, 2, ["XX"])
    with pytest.raises(Forbidden):
        service.withhold(session, officer("FRA"), record.id, 2, [])
    lifted = service.withhold(session, officer("DEU"), record.id, 2, [])
    assert lifted.withheld_from is None
    assert service.history(session, record.id)[1]["data"]["withheld_from"] == ["FRA", "ITA"]
