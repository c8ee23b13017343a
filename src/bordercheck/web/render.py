"""Pages from templates, in the viewer's language, with the headers every page carries."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bordercheck import __version__
from bordercheck.web import i18n, labels
from bordercheck.web.navigation import pages_for
from bordercheck.web.reasons import translate_reason

TEMPLATES = Path(__file__).parent / "templates"
STATIC_PREFIX = "/static/console"

# Nothing from elsewhere, no inline script or style, no framing: a page injected with markup
# can neither run it nor send what it reads anywhere.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show police data: never kept by the browser or a proxy for the next person.
    "Cache-Control": "no-store",
}


@functools.cache
def environment(code: str) -> Environment:
    """The templates for one language (each compiled once per language)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n.install(env, code)
    # What a service refused, in this language where it is a refusal people meet (reasons.py).
    env.filters["reason"] = functools.partial(translate_reason, i18n.LANGUAGES[code])
    # The hit workflow's lines; imported here, as it names the case's codes with this module.
    from bordercheck.web.hits.notices import localise

    env.filters["notice"] = functools.partial(localise, i18n.LANGUAGES[code])
    env.globals.update(
        static=STATIC_PREFIX,
        app_version=__version__,  # not "version": pages use that for a record's
        languages=list(i18n.LANGUAGES.values()),
        pages_for=pages_for,
        training=False,
    )
    gettext = i18n.translations(code).gettext
    for kind, names in labels.KINDS.items():
        env.globals[f"{kind}_label"] = _labeller(names, gettext)
    return env


def _labeller(names: dict[str, str], gettext: Callable[[str], str]) -> Callable[[object], str]:
    def label(value: object) -> str:
        key = str(getattr(value, "value", value) or "")
        return gettext(names[key]) if key in names else key

    return label


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    language: i18n.Language,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    page = environment(language.code).get_template(template)
    # A sandbox's name marks every page (the banner in base.html; False when live).
    settings = getattr(request.app.state, "settings", None)
    training = getattr(settings, "training_sandbox", None) or False
    body = page.render(request=request, language=language, **{"training": training, **context})
    return HTMLResponse(body, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})


def translate(language: i18n.Language, message: str, **values: Any) -> str:
    """A string of the code (marked with ``N_``) in the viewer's language."""
    text = i18n.translations(language.code).gettext(message)
    return text % values if values else text
