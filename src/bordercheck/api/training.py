"""Every answer of a training sandbox carries its name (header ``X-Bordercheck-Training``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bordercheck.installation import TRAINING_HEADER


class TrainingMark:
    """Pure ASGI (no per-request task): screening's hot path pays one header, nothing more."""

    def __init__(self, app: ASGIApp, *, sandbox: str) -> None:
        self.app = app
        self.header = (TRAINING_HEADER.lower().encode(), sandbox.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, marked)
