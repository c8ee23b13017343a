"""The console's hits pages: the inbox of each side, a case, its thread, notifications."""

from __future__ import annotations

from bordercheck.web.hits import case, inbox, notifications

# The inbox first: its fixed paths (/hits/badge) before a case's /hits/{hit_id}.
routers = (inbox.router, case.router, notifications.router)
