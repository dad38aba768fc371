"""The OpenAPI document is valid OpenAPI 3.1 and complete: every reference resolves, so
client generators and API fuzzers can use every operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from facebank.api.app import create_app
from tests.api.conftest import make_settings

REF_PREFIX = "#/"


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # Building the document needs no running services: the app is never started here.
    app = create_app(make_settings(Path(tmp_path_factory.mktemp("openapi"))))
    return app.openapi()


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises, naming the first invalid part


# The validator resolves the references it validates through, but not those of request
# bodies: a missing component there passes it, so every reference is resolved here.
def test_every_reference_resolves(document: dict[str, Any]) -> None:
    dangling = sorted({ref for ref in _refs(document) if not _resolves(document, ref)})
    assert dangling == []


def test_every_operation_is_named_once(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for op in _operations(document)]
    assert len(ids) == len(set(ids)), ids


def _operations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for item in document["paths"].values():
        yield from item.values()


def _refs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith(REF_PREFIX):
        return False  # the document refers to nothing outside itself
    node: object = document
    for part in ref.removeprefix(REF_PREFIX).split("/"):
        step = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or step not in node:
            return False
        node = node[step]
    return True
