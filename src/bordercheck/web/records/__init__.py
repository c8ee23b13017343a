"""Records in the console: a bureau's own records listed, searched, read with their history,
added, changed, withdrawn, withheld from countries, and imported from a file.

Every page goes through the registry's own services and the same policy as ``/records``:
the issuing country's bureau (and administrators) change records; reading them is also for
the secretariat's analysts (``auth.policy``).
"""

from __future__ import annotations

from bordercheck.web.records import imports, pages
from bordercheck.web.routing import console_router

router = console_router()
# The import's paths first: /records/{record_id} would take /records/import otherwise.
router.include_router(imports.router)
router.include_router(pages.router)
