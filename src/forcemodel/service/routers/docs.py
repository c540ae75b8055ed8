"""The browsable API description at ``/docs`` (Swagger UI from the package) and ``/``.

Swagger UI's script, style and icon are served from the package (``service/static/
swagger-ui``, see its README) under ``/docs/assets/``, never from a CDN, so the page renders
on an air-gapped network. ``/`` leads to ``/docs``. No token is needed for either.

No ``from __future__ import annotations``: FastAPI reads the annotations of the routes.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

#: The folder of Swagger UI's files, and the path they are served under.
ASSETS = Path(__file__).resolve().parent.parent / "static" / "swagger-ui"
ASSETS_PATH = "/docs/assets"

router = APIRouter(tags=["docs"], include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The API's description, for a browser that opens the service's address."""
    return RedirectResponse("/docs")


@router.get("/docs")
def docs() -> HTMLResponse:
    """Swagger UI on the service's OpenAPI description, every asset from the service itself."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="forcemodel security assistance",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        # No validator badge: it would load an image from swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
