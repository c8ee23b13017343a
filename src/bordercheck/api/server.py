"""Running the API under uvicorn; each worker builds its app through ``create_app``."""

from __future__ import annotations

import uvicorn


def run(*, host: str, port: int, workers: int = 1) -> None:
    uvicorn.run(
        "bordercheck.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        proxy_headers=True,
    )
