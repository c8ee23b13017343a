"""PAXLST as it comes from gateways: flights of several legs, files cut short, teletype
headers, names in another character set than the one declared, and the older US dialect's
flight; each either read, or refused saying what is wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bordercheck.manifests.edifact import ManifestUnreadable
from bordercheck.manifests.flight import Manifest, Traveller
from bordercheck.manifests.paxlst import parse_paxlst

HEAD = (
    "UNA:+.? '"
    "UNB+UNOA:4+KESTRELAIR+BORDERAGENCY+261204:0615+CTL42'"
    "UNH+M1+PAXLST:D:05B:UN:IATA+KE0418/261204+01:F'"
    "BGM+745'"
    "NAD+MS+++OPS DESK'"
)
HAWKE = (
    "NAD+FL+++HAWKE:LENA:MARIT'ATT+2++F'DTM+329:880214'NAT+2+NOR'"
    "DOC+P+RK5512094'DTM+36:310830'LOC+91+NOR'"
)
OKAFOR = "NAD+FL+++OKAFOR:CHIDI'ATT+2++M'DTM+329:19790603:102'NAT+2+NGA'DOC+P+A07731256'LOC+91+NGA'"


def interchange(flight_header: str, travellers: str = HAWKE + OKAFOR, *, head: str = HEAD) -> str:
    body = flight_header + travellers + "CNT+42:2'"
    count = body.count("'") + 4  # and UNH, BGM, NAD+MS, UNT
    return head + body + f"UNT+{count}+M1'UNZ+1+CTL42'"


def only(text: str | bytes) -> Manifest:
    (manifest,) = parse_paxlst(text).manifests
    return manifest


def warnings(manifest: Manifest) -> list[str]:
    return [str(w) for w in manifest.warnings]


def problems(traveller: Traveller) -> list[str]:
    return [str(p) for p in traveller.problems]


def flight(manifest: Manifest) -> tuple[object, ...]:
    return (
        manifest.flight, manifest.carrier, manifest.departure, manifest.arrival,
        manifest.departure_at, manifest.arrival_at,
    )  # fmt: skip


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


# -- flights of several legs -----------------------------------------------------------------


def test_a_flight_and_its_domestic_continuation_are_filed_under_the_leg_that_crosses() -> None:
    manifest = only(interchange(
        "TDT+20+KE418+++KE'LOC+125+OSL'DTM+189:2612040930:201'LOC+87+EWR'DTM+232:2612041215:201'"
        "TDT+20+KE419+++KE'LOC+92+EWR'DTM+189:2612041400:201'LOC+92+DEN'DTM+232:2612041640:201'"
    ))  # fmt: skip
    assert flight(manifest) == ("KE418", "KE", "OSL", "EWR", at(4, 9, 30), at(4, 12, 15))
    assert warnings(manifest) == [
        "the message names 2 flight legs (KE418 OSL → EWR; KE419 EWR → DEN); the list is "
        "filed under KE418 OSL → EWR, the leg that crosses the border (LOC+125/87)"
    ]


def test_the_leg_that_crosses_is_chosen_wherever_it_comes() -> None:
    manifest = only(interchange(
        "TDT+20+KE7+++KE'LOC+92+BGO'DTM+189:2612040600:201'LOC+92+OSL'DTM+232:2612040700:201'"
        "TDT+20+KE418+++KE'LOC+125+OSL'DTM+189:2612040930:201'LOC+87+EWR'DTM+232:2612041215:201'"
    ))  # fmt: skip
    assert flight(manifest) == ("KE418", "KE", "OSL", "EWR", at(4, 9, 30), at(4, 12, 15))


def test_a_progressive_flight_named_by_its_route_is_filed_under_its_first_leg() -> None:
    # Every place sent as routing (92): the time after each says whether it leaves or arrives.
    manifest = only(interchange(
        "TDT+20+KE418+++KE'LOC+92+OSL'DTM+189:2612040930:201'LOC+92+KEF'DTM+232:2612041100:201'"
        "TDT+20+KE420+++KE'LOC+92+KEF'DTM+189:2612041200:201'LOC+92+EWR'DTM+232:2612041430:201'"
    ))  # fmt: skip
    assert flight(manifest) == ("KE418", "KE", "OSL", "KEF", at(4, 9, 30), at(4, 11))
    assert "the leg that comes first" in warnings(manifest)[0]


def test_a_route_without_times_takes_its_first_and_last_places() -> None:
    manifest = only(interchange("TDT+20+KE418+++KE'LOC+92+OSL'LOC+92+KEF'LOC+92+EWR'"))
    assert (manifest.departure, manifest.arrival) == ("OSL", "EWR")
    assert warnings(manifest) == []


def test_a_departure_sent_under_another_qualifier_is_read_by_the_time_after_it() -> None:
    manifest = only(interchange(
        "TDT+20+KE418+++KE'LOC+22+OSL'DTM+189:2612040930:201'LOC+87+EWR'DTM+232:2612041215:201'"
    ))  # fmt: skip
    assert flight(manifest) == ("KE418", "KE", "OSL", "EWR", at(4, 9, 30), at(4, 12, 15))
    assert len(warnings(manifest)) == 1
    assert "LOC qualifier '22' in the flight's header" in warnings(manifest)[0]


def test_a_place_with_another_qualifier_and_no_time_is_not_taken_for_the_flights() -> None:
    manifest = only(interchange("TDT+20+KE418+++KE'LOC+188+OSL'LOC+172+EWR'"))
    assert (manifest.departure, manifest.arrival) == (None, None)
    assert len(warnings(manifest)) == 2


def test_airports_sent_as_un_locodes_are_read_as_airports() -> None:
    manifest = only(interchange("TDT+20+KE418+++KE'LOC+125+NOOSL'LOC+87+USEWR'"))
    assert (manifest.departure, manifest.arrival) == ("OSL", "EWR")


def test_a_list_of_several_legs_joins_its_parts_by_the_chosen_leg() -> None:
    legs = (
        "TDT+20+KE418+++KE'LOC+125+OSL'DTM+189:2612040930:201'LOC+87+EWR'"
        "TDT+20+KE419+++KE'LOC+92+EWR'LOC+92+DEN'"
    )
    first = interchange(legs, HAWKE).replace("+01:F'", "+01:C'")
    second = interchange(legs, OKAFOR).replace("+01:F'", "+02:F'")
    (manifest,) = parse_paxlst(first + second).manifests
    assert [t.surname for t in manifest.travellers] == ["HAWKE", "OKAFOR"]
    assert manifest.flight == "KE418"


# -- files cut short ---------------------------------------------------------------------------


def test_a_file_cut_inside_a_document_number_does_not_screen_what_is_left_of_it() -> None:
    whole = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'", OKAFOR + HAWKE)
    cut = whole[: whole.index("RK5512094") + 4]  # ends DOC+P+RK55
    manifest = only(cut)
    okafor, hawke = manifest.travellers
    assert [d.number for d in okafor.documents] == ["A07731256"]
    assert hawke.documents == []
    (problem,) = problems(hawke)
    assert problem.startswith("segment ")
    assert (
        "(DOC, line 1): the file ends inside this segment (no terminator after it): it is "
        "not read, and the file may be cut short" in problem
    )


def test_a_file_cut_inside_its_only_traveller_is_refused_saying_it_may_be_cut() -> None:
    whole = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'", HAWKE)
    with pytest.raises(ManifestUnreadable, match="the file ends inside a segment, so it may "
                       "have been cut short"):  # fmt: skip
        parse_paxlst(whole[: whole.index("HAWKE:LE") + 8])


def test_a_trailer_without_its_terminator_is_read_as_it_is() -> None:
    whole = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'")
    parsed = parse_paxlst(whole.removesuffix("'"))  # UNZ+1+CTL42, no apostrophe
    assert parsed.warnings == []
    (manifest,) = parsed.manifests
    assert warnings(manifest) == []
    assert all(not t.problems for t in manifest.travellers)


# -- what comes around the interchange -------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "QU OSLKEXH LUNAPXS\r\n.OSLKEXH 040615\r\n",  # UNA inside an address
        "ATTN FORTUNA HANDLING\nPAXLST KE418\n",  # and inside a word
        "\x01QU OSLKEXH\r\n\x02",  # teletype start-of-header and start-of-text
    ],
)
def test_a_teletype_header_with_the_letters_una_in_it_is_skipped(header: str) -> None:
    parsed = parse_paxlst(header + interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'"))
    assert [str(w) for w in parsed.warnings] == [
        "skipped 2 line(s) before the interchange (teletype header)"
    ]
    (manifest,) = parsed.manifests
    assert [t.surname for t in manifest.travellers] == ["HAWKE", "OKAFOR"]


def test_names_sent_in_utf8_under_a_latin_character_set_are_read_as_utf8() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'", head=HEAD.replace(
        "UNOA:4", "UNOC:3"
    )).replace("HAWKE:LENA:MARIT", "HÅKONSEN:LÉNA")  # fmt: skip
    parsed = parse_paxlst(text.encode("utf-8"))
    assert [str(w) for w in parsed.warnings] == [
        "the file names UNOC but its letters are in UTF-8; read as UTF-8"
    ]
    assert parsed.manifests[0].travellers[0].name == "HÅKONSEN, LÉNA"


def test_names_in_latin1_under_unoc_are_read_as_latin1_without_a_word() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'", head=HEAD.replace(
        "UNOA:4", "UNOC:3"
    )).replace("HAWKE:LENA:MARIT", "HÅKONSEN:LÉNA")  # fmt: skip
    parsed = parse_paxlst(text.encode("latin-1"))
    assert parsed.warnings == []
    assert parsed.manifests[0].travellers[0].name == "HÅKONSEN, LÉNA"


def test_a_file_in_utf16_is_read_with_a_warning() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'")
    parsed = parse_paxlst(text.encode("utf-16"))  # with its byte order mark
    assert "the file is in UTF-16, which no EDIFACT character set is; read as such" in [
        str(w) for w in parsed.warnings
    ]
    assert len(parsed.manifests[0].travellers) == 2


def test_segments_one_per_line_without_terminators_are_refused_as_a_display() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'").removeprefix("UNA:+.? '")
    with pytest.raises(ManifestUnreadable, match='no segment terminator "\'" in the file'):
        parse_paxlst(text.replace("'", "\n"))


def test_other_separators_without_a_una_are_refused_naming_the_first_piece() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'").removeprefix("UNA:+.? '")
    with pytest.raises(ManifestUnreadable) as refused:
        parse_paxlst(text.replace("+", "*"))
    message = str(refused.value)
    assert message.startswith("no segment could be read: ")
    assert "'UNB*UNOA:4*KESTRELAI' is not a segment" in message
    assert "unless a UNA names others" in message


# -- inside a traveller's group ----------------------------------------------------------------


def test_a_dtm_with_nothing_in_it_is_reported_and_read_past() -> None:
    bare_dtm = HAWKE.replace("DTM+329:880214'", "DTM'")
    manifest = only(interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'", bare_dtm + OKAFOR))
    hawke, okafor = manifest.travellers
    assert hawke.birth_date is None
    assert [p.message for p in hawke.problems] == ["a DTM with no qualifier and no date; ignored"]
    assert hawke.documents[0].number == "RK5512094"
    assert okafor.birth_date == date(1979, 6, 3)


def test_a_second_expiry_date_is_reported_and_the_first_kept() -> None:
    manifest = only(interchange(
        "TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'",
        HAWKE.replace("LOC+91+NOR'", "LOC+91+NOR'DTM+36:320101'"),
    ))  # fmt: skip
    hawke = manifest.travellers[0]
    assert hawke.documents[0].expiry_date == date(2031, 8, 30)
    assert [p.message for p in hawke.problems] == [
        "a second expiry date (2032-01-01) for document RK5512094; the first (2031-08-30) is kept"
    ]


def test_a_master_crew_list_is_read_as_a_crew_list() -> None:
    text = interchange(
        "TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'",
        HAWKE.replace("NAD+FL", "NAD+FM") + OKAFOR.replace("NAD+FL", "NAD+FM"),
    ).replace("BGM+745'", "BGM+336'")
    manifest = only(text)
    assert manifest.list_type == "crew"
    assert [p.message for p in manifest.warnings] == [
        "a master crew list (336), not a flight's: read as a crew list"
    ]


def test_a_une_without_a_ung_is_reported_once_per_message() -> None:
    text = interchange("TDT+20+KE418+++KE'LOC+125+OSL'LOC+87+EWR'")
    text = text.replace("UNZ+1+CTL42'", "UNE+1+M1'UNZ+1+CTL42'")
    parsed = parse_paxlst(text)
    assert [p.message for p in parsed.warnings] == ["UNE without a UNG before it; ignored"]


# -- the older US dialect's flight -------------------------------------------------------------

US_DIALECT = (
    "UNA:+.? '"
    "UNB+UNOA:1+KESTREL:NO+USCS:US+261204:0615+2612040615++CEDIPAX+A+++0'"
    "UNG+PAXLST+KESTREL:NO+TECS:US+261204:0615+2612040615+NO+001:000'"
    "UNH+2612040615+PAXLST:001:000:NO+KE418/261204/0930'"
    "TDT++KE418+40+KE'"
    "{route}"
    "UNS+D'"
    "PDT+P/RK5512094:310830:NO+HAWKE:LENA:MARIT:880214:F+PAX+NOOSL:USEWR'"
    "PDT+P/A07731256:300101:NG+OKAFOR:CHIDI::790603:M+PAX+NOOSL:USEWR'"
    "UNT+{count}+2612040615'UNE+1+2612040615'UNZ+1+2612040615'"
)


def us_dialect(route: str) -> str:
    count = 6 + route.count("'")  # and UNH, TDT, UNS, two PDT, UNT
    return US_DIALECT.format(route=route, count=count)


def test_the_older_us_dialect_names_its_flight_with_its_own_qualifiers() -> None:
    parsed = parse_paxlst(us_dialect(
        "LOC+005+NOOSL:50'DTM+136+261204+0930+P01'LOC+008+USEWR:50'DTM+132+261204+1215+M05'"
    ))  # fmt: skip
    (manifest,) = parsed.manifests
    assert flight(manifest) == ("KE418", "KE", "OSL", "EWR", at(4, 9, 30), at(4, 12, 15))
    assert [t.surname for t in manifest.travellers] == ["HAWKE", "OKAFOR"]
    assert not any("UNS" in str(w) for w in [*parsed.warnings, *manifest.warnings])


def test_the_older_us_dialect_with_ports_of_call_arrives_at_its_last() -> None:
    manifest = only(us_dialect(
        "LOC+5+NOOSL:50'DTM+136+261204+0930+P01'LOC+PT+ISKEF:50'DTM+132+261204+1100+Z00'"
        "LOC+8+USEWR:50'DTM+132+261204+1430+M05'"
    ))  # fmt: skip
    assert flight(manifest) == ("KE418", "KE", "OSL", "EWR", at(4, 9, 30), at(4, 14, 30))
