"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from bordercheck.auth.models import ApiClient, Bureau, RevokedToken, User
from bordercheck.db import Base
from bordercheck.hits.models import Hit
from bordercheck.registry.models import Change, FeedCounter, Record, RecordVersion
from bordercheck.screening.models import RecordWatch, ScreeningMatch, ScreeningQuery

__all__ = [
    "ApiClient",
    "Base",
    "Bureau",
    "Change",
    "FeedCounter",
    "Hit",
    "Record",
    "RecordVersion",
    "RecordWatch",
    "RevokedToken",
    "ScreeningMatch",
    "ScreeningQuery",
    "User",
]
