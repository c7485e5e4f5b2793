"""`coffer api_docs`: docs/api.md, generated from the FastAPI OpenAPI schema (`make docs`)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from coffer.api import app as api_app

# FastAPI's own validation schemas describe a shape Coffer never sends (422s are problem+json).
_FASTAPI_SCHEMAS = {"HTTPValidationError", "ValidationError"}
_METHODS = ("get", "post", "put", "patch", "delete")

INTRO = """\
# Coffer API

Generated from the OpenAPI schema by `coffer api_docs` (`make docs`); do not edit by hand.
The live, interactive version is served at `/api/docs` (schema: `/api/openapi.json`).

## Conventions

- **Authentication.** `POST /api/v1/auth/token` exchanges an email and password for a
  short-lived access token (a JWT, `JWT_ACCESS_TTL_SECONDS`, 15 minutes by default) and a
  refresh token. Send it as `Authorization: Bearer <token>`. Personal access tokens
  (`cof_...`) work the same way but reach only their own tenant, and read-only ones cannot
  write. Sign-in failures are throttled (429 with `Retry-After`).
- **Tenants.** Tenant data lives under `/api/v1/tenants/{tenant}/...`, where `{tenant}` is
  the slug or the id. A tenant you are not a member of, or another tenant's object, is
  **404**, never 403. Roles: viewer reads; member writes transactions; admin manages
  accounts and members and reads the audit trail; owner also manages the tenant.
- **Money.** Amounts are decimal strings (`"-12.50"`, at most 4 decimal places), never
  JSON numbers; a float in a request is refused. Each account has one ISO 4217 currency.
- **Errors.** Every error is `application/problem+json` (RFC 9457):
  `{"type", "title", "status", "detail", "instance", "errors": [{"field", "message", "code"}]}`.
  401 not signed in, 403 role too low, 404 not found (or not yours), 409 conflict,
  413 body too large, 422 invalid input (unknown fields included), 429 throttled.
- **Pagination.** Lists return `{"items": [...], "next": "<cursor>"}`. Pass `limit`
  (1 to 100, default 50) and `cursor=<next>` for the following page; `next` is null on the
  last page. Cursors are opaque keyset cursors.
- **Idempotency.** `POST` creates accept an `Idempotency-Key` header. Repeating the same
  key with the same body returns the first answer again (with `Idempotent-Replayed: true`)
  and creates nothing; the same key with a different body is 409. Keys are per person and
  expire after `IDEMPOTENCY_TTL_SECONDS` (24 hours by default).
"""


def _anchor(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum() or ch in "-_")


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_of(schema: dict[str, Any]) -> str:
    """A short, readable type for a JSON schema: `string (uuid)`, `list[AccountOut]`, `integer | null`."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return f"[{name}](#{_anchor(name)})"
    if "anyOf" in schema or "oneOf" in schema:
        return " \\| ".join(type_of(option) for option in schema.get("anyOf") or schema["oneOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{type_of(schema.get('items', {}))}]"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    if kind == "string" and "pattern" in schema and "examples" in schema:
        return f"string, e.g. `{schema['examples'][0]}`"
    return kind


def _notes(schema: dict[str, Any], description: str = "") -> str:
    notes = [description or schema.get("description", "")]
    options = schema.get("anyOf", [])
    flat = {key: value for option in [schema, *options] for key, value in option.items()}
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"), ("maxLength", "max length")):
        if key in flat:
            notes.append(f"{label} {flat[key]}")
    if "default" in schema and schema["default"] is not None:
        notes.append(f"default `{json.dumps(schema['default'])}`")
    return "; ".join(note for note in notes if note).replace("|", "\\|").replace("\n", " ")


def _body_schema(content: dict[str, Any]) -> str:
    for media_type, body in content.items():
        schema = body.get("schema", {})
        if "$ref" in schema and _ref_name(schema["$ref"]) in _FASTAPI_SCHEMAS:
            return "problem+json"
        return f"{type_of(schema)} ({media_type})" if media_type != "application/json" else type_of(schema)
    return ""


def _operation(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", operation.get("summary", "")]
    if operation.get("description"):
        lines += ["", operation["description"].strip()]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["", "| Parameter | In | Required | Type | Notes |", "| --- | --- | --- | --- | --- |"]
        for param in parameters:
            schema = param.get("schema", {})
            lines.append(
                f"| `{param['name']}` | {param['in']} | {'yes' if param.get('required') else 'no'} "
                f"| {type_of(schema)} | {_notes(schema, param.get('description', ''))} |"
            )
    body = operation.get("requestBody")
    if body:
        lines += ["", f"Request body: {_body_schema(body.get('content', {}))}"]
    lines += ["", "Responses:", ""]
    for status, response in operation.get("responses", {}).items():
        shape = _body_schema(response.get("content", {}))
        lines.append(f"- `{status}` {response.get('description', '')}" + (f": {shape}" if shape else ""))
    return [*lines, ""]


def _schema_section(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [schema["description"].strip().replace("\n", " "), ""]
    properties = schema.get("properties", {})
    if not properties:
        return [*lines, type_of(schema), ""]
    required = set(schema.get("required", []))
    lines += ["| Field | Type | Required | Notes |", "| --- | --- | --- | --- |"]
    for field, field_schema in properties.items():
        needed = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {type_of(field_schema)} | {needed} | {_notes(field_schema)} |")
    return [*lines, ""]


def api_markdown(openapi: dict[str, Any]) -> str:
    by_tag: dict[str, list[str]] = {}
    for path, item in openapi.get("paths", {}).items():
        for method in _METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).extend(_operation(path, method, item[method]))
    lines = [INTRO, "## Endpoints", ""]
    if not by_tag:
        lines += ["No endpoints yet.", ""]
    for tag, operation_lines in by_tag.items():
        lines += [f"## {tag.capitalize()}", "", *operation_lines]
    schemas = {k: v for k, v in openapi.get("components", {}).get("schemas", {}).items() if k not in _FASTAPI_SCHEMAS}
    if schemas:
        lines += ["## Schemas", ""]
        for name, schema in schemas.items():
            lines += _schema_section(name, schema)
    return "\n".join(lines).rstrip() + "\n"


class Command(BaseCommand):
    help = "Print the API reference (Markdown) generated from the OpenAPI schema; `make docs` writes docs/api.md."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="Write to this file instead of standard output")

    def handle(self, *args, output, **options):
        text = api_markdown(api_app.create_app().openapi())
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
