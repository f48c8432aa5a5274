"""The review pages' Jinja2 environment: the station's templates, and the HTML report's
(its viewer script and style are included, not copied).

>>> page(environment().from_string("{{ x|num }}"), x=0.123456).body
b'0.123'
"""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from castsight.report.jinja import num


@functools.cache
def environment() -> jinja2.Environment:
    """Templates of ``castsight.station.ui`` first, then ``castsight.report``'s."""
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("castsight.station.ui", "templates"),
                jinja2.PackageLoader("castsight.report", "templates"),
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = num
    return env


def page(template: str | jinja2.Template, *, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered with ``values`` as an HTML answer (never cached)."""
    found = environment().get_template(template) if isinstance(template, str) else template
    answer = HTMLResponse(found.render(**values), status_code=status)
    answer.headers["Cache-Control"] = "no-store"
    return answer


__all__ = ["environment", "page"]
