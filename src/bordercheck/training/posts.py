"""Border posts of the synthetic world: airports (IATA-style codes), ports and land crossings.

Every name and code here is made up; the countries are real ISO codes, because bureaus are.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BorderPost:
    code: str
    name: str
    kind: str  # airport, port, land
    country: str
    role: str  # origin, transit, destination: where it sits on the smuggling routes

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "kind": self.kind, "country": self.country}


AIRPORTS: tuple[BorderPost, ...] = (
    BorderPost("KDW", "Kadawa International", "airport", "NGA", "origin"),
    BorderPost("OKR", "Okerun Airport", "airport", "NGA", "origin"),
    BorderPost("QAR", "Qalrabad Airport", "airport", "PAK", "origin"),
    BorderPost("BHZ", "Bahrazan International", "airport", "IRQ", "origin"),
    BorderPost("KJV", "Kajvar Airport", "airport", "AFG", "origin"),
    BorderPost("ASQ", "Asmerit Airport", "airport", "ERI", "origin"),
    BorderPost("ZTN", "Zeytinova International", "airport", "TUR", "transit"),
    BorderPost("DLV", "Dolova Airport", "airport", "ROU", "transit"),
    BorderPost("MRQ", "Marqesh Airport", "airport", "MAR", "transit"),
    BorderPost("KVB", "Kovbrava Airport", "airport", "UKR", "transit"),
    BorderPost("WZK", "Wezkowo Airport", "airport", "POL", "transit"),
    BorderPost("HNW", "Hanwald Airport", "airport", "DEU", "destination"),
    BorderPost("LRX", "Loiret-Vauxmont", "airport", "FRA", "destination"),
    BorderPost("BSY", "Bramsey Airport", "airport", "GBR", "destination"),
    BorderPost("NDV", "Nordveen Airport", "airport", "NLD", "destination"),
    BorderPost("VTQ", "Valtorque Airport", "airport", "ESP", "destination"),
    BorderPost("MZL", "Menzola Airport", "airport", "ITA", "destination"),
)

OTHER_POSTS: tuple[BorderPost, ...] = (
    BorderPost("TURPK1", "Karaduz land crossing", "land", "TUR", "transit"),
    BorderPost("POLLC2", "Zbrody land crossing", "land", "POL", "transit"),
    BorderPost("ITAPT1", "Porto Velaro", "port", "ITA", "destination"),
    BorderPost("ESPPT1", "Puerto de Almira", "port", "ESP", "destination"),
)

CARRIERS = ("XB", "QK", "ZV", "JW", "YR")


def airports(role: str) -> list[BorderPost]:
    return [post for post in AIRPORTS if post.role == role]


def post_by_code() -> dict[str, BorderPost]:
    return {post.code: post for post in (*AIRPORTS, *OTHER_POSTS)}
