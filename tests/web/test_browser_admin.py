"""In a real browser: an administrator adds a person, resets another's second factor and
revokes a kit; a bureau officer uploads a passenger list and finds the hit first; every
page on the way checked by axe-core, and the administration read in Arabic."""

from __future__ import annotations

import itertools

import pyotp

from bordercheck.auth import second_factor
from bordercheck.auth import service as auth_service
from bordercheck.auth.models import Role
from bordercheck.auth.tokens import Principal
from bordercheck.documents.types import DocumentType
from bordercheck.edge import service as edge_service
from bordercheck.manifests.flight import TravelDocument
from bordercheck.manifests.writer import synthetic_flight, write_paxlst
from tests.signin import PASSWORD
from tests.web.conftest import LiveConsole, Tab

_people = itertools.count(1)


def person(live: LiveConsole, role: Role, bureau: str = "FRA") -> str:
    return live.add_user(f"{role.value.split('_')[0]}.admin{next(_people)}", role, bureau)


def enrolled(live: LiveConsole, username: str) -> None:
    with live.database.session(write=True) as session:
        user = auth_service.get_user(session, username)
        enrolment = second_factor.new_enrolment()
        code = pyotp.TOTP(enrolment.secret).now()
        second_factor.confirm_enrolment(
            session, user, enrolment, code, secret_key=live.settings.secret_key
        )


def registered_kit(live: LiveConsole) -> str:
    client_id, _ = live.add_client("FRA")
    kit_client = Principal("client", client_id, "kit FRA", Role.BORDER_OFFICER, "FRA")
    with live.database.session(write=True) as session:
        wrapping = edge_service.wrapping_key(live.settings.secret_key)
        kit, _ = edge_service.register_kit(session, kit_client, wrapping)
        return kit.kit_id


def test_an_administrator_adds_a_person_resets_a_second_factor_and_revokes_a_kit(
    live: LiveConsole, tab: Tab
) -> None:
    lost_phone = person(live, Role.BORDER_OFFICER)
    enrolled(live, lost_phone)
    kit = registered_kit(live)
    tab.sign_in(person(live, Role.ADMIN, "DEU"))
    tab.page.click("nav.menu a[href='/admin']")
    tab.assert_accessible()

    tab.page.click("a[href='/admin/users']")
    tab.assert_accessible()
    tab.page.click("a[href='/admin/users/new']")
    tab.assert_accessible()
    tab.page.fill("#username", "new.colleague")
    tab.page.select_option("#bureau", "FRA")
    tab.page.click("main form button[type=submit]")  # no role chosen: said so, by the field
    assert tab.page.locator(".error-summary a[href='#role']").count() == 1
    tab.assert_accessible()
    tab.page.select_option("#role", "bureau_officer")
    tab.page.fill("#password", PASSWORD)
    tab.page.click("main form button[type=submit]")
    tab.page.wait_for_url("**/admin/users/new.colleague?done=added")
    assert "new.colleague was added" in tab.page.inner_text("main")
    tab.assert_accessible()
    tab.page.click("form[action$='/password'] button")
    assert tab.page.locator("[data-temporary-password] code").inner_text()
    tab.assert_accessible()

    tab.goto(f"/admin/users/{lost_phone}")
    tab.page.click("form[action$='/second-factor'] button")
    tab.page.wait_for_url(f"**/admin/users/{lost_phone}?done=second_factor")
    assert "was reset" in tab.page.inner_text("main")
    assert tab.page.locator("form[action$='/second-factor']").count() == 0
    tab.assert_accessible()

    tab.goto("/admin/kits")
    tab.assert_accessible()
    tab.page.click(f"form[action='/admin/kits/{kit}/revoke'] button")
    tab.page.wait_for_url("**/admin/kits?done=revoked")
    with live.database.session() as session:
        assert edge_service.get_kit(session, kit).revoked_at is not None
    tab.assert_accessible()

    for path in ("/admin/clients", "/admin/bureaus", "/admin/audit?action=user."):
        tab.goto(path)
        tab.assert_accessible()
    tab.page.click("a[href='/admin/audit/verify']")
    assert tab.page.get_attribute("[data-verified]", "data-verified") == "intact"
    tab.assert_accessible()


def test_the_administration_reads_right_to_left_in_arabic(live: LiveConsole, tab_factory) -> None:  # type: ignore[no-untyped-def]
    tab: Tab = tab_factory("ar")
    tab.sign_in(person(live, Role.ADMIN, "DEU"))
    tab.goto("/admin/users")
    assert tab.page.get_attribute("html", "dir") == "rtl"
    assert tab.page.get_attribute("html", "lang") == "ar"
    assert "الأشخاص" in tab.page.inner_text("h1")
    tab.assert_accessible()
    tab.goto("/manifests")
    assert "قوائم الركاب" in tab.page.inner_text("h1")
    tab.assert_accessible()


def test_a_bureau_officer_uploads_a_flight_and_finds_the_hit_first(
    live: LiveConsole, tab: Tab
) -> None:
    live.report("P1ANT3D01", "DEU")
    live.catch_up()
    stolen = TravelDocument("P", DocumentType.PASSPORT, "P1ANT3D01", "DEU")
    flight = synthetic_flight(40, seed=7, flight="XB4321", planted=[stolen])
    planted = next(t for t in flight.travellers if t.documents[0] is stolen)
    tab.sign_in(person(live, Role.BUREAU_OFFICER))
    tab.page.click("nav.menu a[href='/manifests']")
    tab.assert_accessible()

    tab.page.set_input_files(
        "#file", files=[{"name": "broken.edi", "mimeType": "text/plain", "buffer": b"no EDIFACT"}]
    )
    tab.page.click("main form button[type=submit]")
    assert tab.page.locator(".error-summary a[href='#file']").count() == 1
    assert "the file has no UNA, UNB or UNH segment" in tab.page.inner_text(".error-summary")
    tab.assert_accessible()

    paxlst = write_paxlst(flight).encode()
    tab.page.set_input_files(
        "#file", files=[{"name": "xb4321.edi", "mimeType": "text/plain", "buffer": paxlst}]
    )
    tab.page.fill("#location", "CDG")
    tab.page.click("main form button[type=submit]")
    tab.page.wait_for_url("**/manifests/*")
    assert "XB4321" in tab.page.inner_text("h1")
    first = tab.page.locator("tbody tr").first
    assert first.get_attribute("data-result") == "hit"
    assert planted.surname in first.inner_text()
    assert first.locator("a[href^='/hits/']").count() == 1
    tab.assert_accessible()
    tab.goto("/manifests")
    assert tab.page.locator("a[href^='/manifests/']").count() >= 1
    tab.assert_accessible()
