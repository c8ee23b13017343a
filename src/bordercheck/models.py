"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from bordercheck.auth.models import Bureau, User
from bordercheck.db import Base
from bordercheck.registry.models import Change, FeedCounter, Record, RecordVersion

__all__ = ["Base", "Bureau", "Change", "FeedCounter", "Record", "RecordVersion", "User"]
