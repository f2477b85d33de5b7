"""The dashboard's pages (``/``, ``/accounts/{id}``) and their static files.

Pages are rendered on the server from Jinja2 templates and hold no data: the browser asks
for a key, keeps it in ``sessionStorage`` (never in a URL or a cookie), and fills the page
from the read-only JSON endpoints and the ``/v1/events`` stream, each request carrying
``Authorization: Bearer KEY``, so every figure passes the same role checks as the API.
The charting library (Plotly) is served from the installed ``plotly`` package: no CDN,
the dashboard works offline.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources
from importlib.metadata import version
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException

from xmargin import __version__

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
_PLOTLY = "plotly.min.js"

#: The pages load scripts, styles and data from this server only. Plotly sets inline
#: styles on the elements it draws, hence 'unsafe-inline' for styles (never scripts).
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("xmargin.service.dashboard", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def plotly_version() -> str:
    return version("plotly")


def plotly_path() -> FsPath:
    """``plotly.min.js`` inside the installed ``plotly`` package."""
    path = FsPath(str(resources.files("plotly") / "package_data" / _PLOTLY))
    if not path.is_file():
        raise HTTPException(404, f"the installed plotly package has no {_PLOTLY}")
    return path


@cache
def _plotly_gzip() -> bytes:
    return gzip.compress(plotly_path().read_bytes(), compresslevel=6)


def _render(template: str, **context: Any) -> HTMLResponse:
    html = (
        _env()
        .get_template(template)
        .render(version=__version__, plotly_version=plotly_version(), **context)
    )
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@router.get("/", response_class=HTMLResponse)
async def overview_page() -> HTMLResponse:
    """The book: overview, charts, queue and the live event stream."""
    return _render("overview.html", page="overview", account=None)


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
async def account_page(
    account_id: Annotated[str, Path(min_length=1, max_length=200)],
) -> HTMLResponse:
    """One account: positions, health, liquidation prices and the what-if slider."""
    return _render("account.html", page="account", account=account_id)


@router.get("/dashboard/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    """The dashboard's own script and style, and the vendored Plotly bundle."""
    if name == _PLOTLY:
        immutable = {"Cache-Control": "public, max-age=31536000, immutable"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                _plotly_gzip(),
                media_type="text/javascript",
                headers={**immutable, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
            )
        return Response(plotly_path().read_bytes(), media_type="text/javascript", headers=immutable)
    media = _STATIC.get(name)
    if media is None:
        raise HTTPException(404, f"no dashboard file {name!r}")
    body = (resources.files("xmargin.service.dashboard") / "static" / name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})
