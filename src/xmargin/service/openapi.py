"""The service's OpenAPI document and its two readers, /docs and /redoc, offline.

The document gets the request-body schemas the routes read by hand (they are listed in
``components.schemas`` and referenced from each route) and the bearer-key security
scheme, so that every request and response body has an exact schema.

Swagger UI and ReDoc load their scripts from the installed ``fastapi-offline`` package
(served under :data:`ASSETS`), never from a CDN: both pages work without internet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

__all__ = ["ASSETS", "install_docs", "install_openapi"]

#: Where the Swagger UI and ReDoc files are served from.
ASSETS = "/docs-assets"
_STATIC = Path(fastapi_offline.__file__).parent / "static"
#: Routes anyone may call (no key).
_PUBLIC = frozenset({"/healthz", "/metrics"})


def install_openapi(app: FastAPI, bodies: list[type[BaseModel]]) -> None:
    """Serve an OpenAPI document with ``bodies`` as components and bearer security."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        _, defs = models_json_schema(
            [(m, "validation") for m in bodies], ref_template="#/components/schemas/{model}"
        )
        components = doc.setdefault("components", {})
        components.setdefault("schemas", {}).update(defs.get("$defs", {}))
        components["securitySchemes"] = {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key from `xmargin keys create`",
            }
        }
        for path, ops in doc.get("paths", {}).items():
            if path in _PUBLIC:
                continue
            for op in ops.values():
                op["security"] = [{"bearer": []}]
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their assets served locally."""
    app.mount(ASSETS, StaticFiles(directory=_STATIC), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - API",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False,
        )
