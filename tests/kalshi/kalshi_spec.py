"""Kalshi's published specs as validators, so wire-layer tests check shapes against them.

``openapi.yaml`` schemas are OpenAPI 3.0 (``nullable``), checked with ``OAS30Validator``;
``asyncapi.yaml`` payloads are JSON Schema draft 7. Missing specs skip the test.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "kalshi"
OPENAPI_URI = "urn:kalshi:openapi"
ASYNCAPI_URI = "urn:kalshi:asyncapi"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _load(name: str) -> dict[str, Any]:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"Kalshi spec not found at {path}")
    with path.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_Loader)
    return document


def _problems(validator: Any, body: Any) -> list[str]:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    return [f"{list(e.path)}: {e.message}" for e in errors[:10]]


def openapi_problems(schema_name: str, body: Any) -> list[str]:
    """Why ``body`` is not a valid ``components/schemas/<schema_name>`` (empty: it is)."""
    spec = _load("openapi.yaml")
    registry: Registry[Any] = Registry().with_resource(
        OPENAPI_URI, Resource.from_contents(spec, default_specification=DRAFT4)
    )
    validator = OAS30Validator(
        {"$ref": f"{OPENAPI_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=oas30_format_checker,
    )
    return _problems(validator, body)


def asyncapi_problems(schema_name: str, message: Any) -> list[str]:
    """Why ``message`` is not a valid ``components/schemas/<schema_name>`` of asyncapi.yaml."""
    spec = _load("asyncapi.yaml")
    registry: Registry[Any] = Registry().with_resource(
        ASYNCAPI_URI, Resource.from_contents(spec, default_specification=DRAFT7)
    )
    validator = Draft7Validator(
        {"$ref": f"{ASYNCAPI_URI}#/components/schemas/{schema_name}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return _problems(validator, message)
