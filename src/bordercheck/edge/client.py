"""The kit's side of the wire: signing in as its API client and calling the centre.

Plain ``urllib``: a kit runs on a laptop at a border post, and every byte it gets is
checked by signature anyway. Every failure is a ``CentreUnreachable`` (no link) or a
``CentreRefused`` (the centre said no, and why), never a traceback.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Final

from bordercheck.errors import BordercheckError

_CHUNK: Final = 1 << 20


class CentreUnreachable(BordercheckError):
    status_code = 503
    code = "offline"


class CentreRefused(BordercheckError):
    code = "refused_by_centre"

    def __init__(self, message: str, status: int, error: str) -> None:
        super().__init__(message, status=status, error=error)
        self.status, self.error = status, error


class Centre:
    def __init__(
        self,
        server: str,
        client_id: str,
        client_secret: str,
        *,
        kit_id: str | None = None,
        training: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        scheme = urllib.parse.urlsplit(server).scheme
        if scheme not in ("http", "https"):
            raise BordercheckError(f"the centre's address must start with https:// ({server!r})")
        self.server = server.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.kit_id = kit_id
        self.training = training
        self.timeout = timeout
        self._token: tuple[str, float] | None = None

    def _open(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str]
    ) -> Any:
        # The scheme was checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.server + path, data=body, method=method, headers=headers
        )
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 (checked)
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CentreUnreachable(f"cannot reach the centre at {self.server}: {reason}") from None

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        signed_in: bool = True,
    ) -> bytes:
        sent = dict(headers or {})
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if signed_in:
            sent.update(self._auth())
        try:
            with self._open(method, path, body=body, headers=sent) as response:
                data: bytes = response.read()
        except (TimeoutError, ConnectionError) as exc:
            raise CentreUnreachable(f"the link to {self.server} broke: {exc}") from None
        return data

    def _auth(self) -> dict[str, str]:
        if self._token is None or self._token[1] < time.monotonic():
            answer = json.loads(
                self._call(
                    "POST",
                    "/api/v1/auth/token",
                    form={
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                    },
                    signed_in=False,
                )
            )
            lifetime = float(answer.get("expires_in", 60))
            self._token = (answer["access_token"], time.monotonic() + lifetime * 0.8)
        headers = {"Authorization": f"Bearer {self._token[0]}"}
        if self.kit_id:
            headers["X-Edge-Kit"] = self.kit_id
        if self.training:
            headers["X-Bordercheck-Training"] = self.training
        return headers

    # The calls ----------------------------------------------------------------------------

    def register(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self._call("POST", "/api/v1/edge/kits"))
        return answer

    def prepare_snapshot(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self._call("POST", "/api/v1/edge/snapshot"))
        return answer

    def download(self, url: str, target: Path, size: int) -> None:
        """Into ``target``, resuming from what it holds already (a link cut mid-way)."""
        have = target.stat().st_size if target.exists() else 0
        if have > size:
            target.unlink()
            have = 0
        if have == size:
            return
        headers = {**self._auth(), "Range": f"bytes={have}-"}
        with self._open("GET", url, headers=headers) as response:
            if response.status != 206:  # the whole file after all
                have = 0
            with open(target, "r+b" if have else "wb") as file:
                file.seek(have)
                file.truncate()
                try:
                    while block := response.read(_CHUNK):
                        file.write(block)
                except (TimeoutError, ConnectionError) as exc:
                    raise CentreUnreachable(
                        f"the download broke off ({exc}); sync again to resume"
                    ) from None

    def changes(self, since: int) -> bytes:
        return self._call("GET", f"/api/v1/edge/changes?since={since}")

    def upload(self, entries: list[dict[str, str]]) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(
            self._call("POST", "/api/v1/edge/uploads", json_body={"entries": entries})
        )
        return answer


def _refusal(exc: urllib.error.HTTPError) -> CentreRefused:
    try:
        body = json.loads(exc.read())
        message, error = str(body.get("message", exc.reason)), str(body.get("error", ""))
    except (ValueError, OSError, AttributeError):
        message, error = str(exc.reason), ""
    return CentreRefused(f"the centre refused ({exc.code}): {message}", exc.code, error)
