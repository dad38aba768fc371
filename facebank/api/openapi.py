"""The OpenAPI document, with the request models that routes read themselves.

A route that parses its own body (POST /people takes JSON or a multipart form) refers to its
JSON model by `$ref` from `openapi_extra`; FastAPI only lists models that a parameter
declares, so those are added to the components here, through pydantic's own generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF_TEMPLATE = "#/components/schemas/{model}"


def document_models(app: FastAPI, models: Sequence[type[BaseModel]]) -> None:
    """Make `app.openapi()` include `models` (and what they refer to) in its components."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # caches itself in app.openapi_schema
            _, extra = models_json_schema(
                [(model, "validation") for model in models], ref_template=REF_TEMPLATE
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in extra.get("$defs", {}).items():
                schemas.setdefault(name, schema)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
