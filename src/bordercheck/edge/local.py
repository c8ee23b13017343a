"""``edge serve``: the kit answering border systems on the post's network, as the centre does.

Same paths and JSON as the centre's ``POST /api/v1/screen`` and ``/screen/batch``. Callers
send ``Authorization: Bearer TOKEN`` with the local token ``edge init`` printed (the kit
keeps only its SHA-256), so a border system points at the kit by changing its address and
token, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from bordercheck import __version__
from bordercheck.api.errors import install_error_handlers
from bordercheck.edge.screener import KitScreener
from bordercheck.errors import Unauthorized
from bordercheck.screening.schemas import BatchRequest, BatchResponse, ScreenRequest, ScreenResponse

_bearer = HTTPBearer(auto_error=False)
LOCAL_CALLER = "local"


def _caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    token = credentials.credentials if credentials else ""
    digest = hashlib.sha256(token.encode()).hexdigest()
    if not token or not hmac.compare_digest(digest, request.app.state.local_token_sha256):
        raise Unauthorized("send 'Authorization: Bearer TOKEN' with the kit's local token")
    return LOCAL_CALLER


CallerDep = Annotated[str, Depends(_caller)]


def create_kit_app(directory: Path, *, max_age_hours: float) -> FastAPI:
    screener = KitScreener(directory, max_age_hours=max_age_hours, background=True)
    screener.current()  # load now: a kit that cannot load should not start serving
    app = FastAPI(title="bordercheck edge kit", version=__version__)
    install_error_handlers(app)

    @app.post("/api/v1/screen", response_model=ScreenResponse)
    async def screen(body: ScreenRequest, who: CallerDep) -> Response:
        """Screen one document against the kit."""
        answers = await run_in_threadpool(screener.screen, [body], who)
        return Response(orjson.dumps(answers[0]), media_type="application/json")

    @app.post("/api/v1/screen/batch", response_model=BatchResponse)
    async def screen_batch(body: BatchRequest, who: CallerDep) -> Response:
        """Screen up to 10,000 documents against the kit, answers in order."""
        answers = await run_in_threadpool(screener.screen, body.documents, who)
        return Response(orjson.dumps({"results": answers}), media_type="application/json")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Up, and how old the kit's data is."""
        loaded, _ = screener.current()
        return {
            "status": "ok",
            "kit_id": loaded.config.kit_id,
            "sequence": loaded.state.sequence,
            "age_seconds": round(loaded.age_seconds()),
            "queued": len(screener.queue),
        }

    app.state.screener = screener
    app.state.local_token_sha256 = screener.directory.config().local_token_sha256
    return app
