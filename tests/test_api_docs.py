"""`coffer api_docs`: the Markdown API reference generated from the OpenAPI schema."""

from __future__ import annotations

import io

from django.core.management import call_command

from coffer.api import app as api_app

METHODS = ("get", "post", "put", "patch", "delete")


def generated() -> str:
    out = io.StringIO()
    call_command("api_docs", stdout=out)
    return out.getvalue()


def test_every_path_and_method_of_the_api_is_documented():
    text = generated()
    operations = [
        (method.upper(), path)
        for path, item in api_app.create_app().openapi()["paths"].items()
        for method in METHODS if method in item
    ]
    assert operations
    for method, path in operations:
        assert f"### `{method} {path}`" in text


def test_documented_operations_show_parameters_body_and_responses():
    text = generated()
    section = text.split("### `POST /api/v1/tenants/{tenant}/transactions`")[1].split("\n### ")[0]
    assert "| `tenant` | path | yes | string | Tenant slug or id |" in section
    assert "| `Idempotency-Key` | header | no |" in section
    assert "Request body: [TransactionIn](#transactionin)" in section
    assert "- `201` Successful Response: [TransactionOut](#transactionout)" in section
    assert "- `422` Validation Error: problem+json" in section


def test_schemas_are_listed_with_their_fields_and_money_as_strings():
    text = generated()
    schema = text.split("### TransactionIn\n")[1].split("\n### ")[0]
    assert "| `amount` | string, e.g. `-12.50` | yes |" in schema
    assert "| `account_id` | string (uuid) | yes |" in schema
    # FastAPI's validation schema is not what Coffer sends, so it is left out
    assert "### HTTPValidationError" not in text


def test_intro_explains_the_conventions():
    text = generated()
    for convention in ("Authorization: Bearer", "decimal strings", "application/problem+json", "cursor", "Idempotency-Key"):
        assert convention in text


def test_output_option_writes_the_same_file(tmp_path):
    target = tmp_path / "api.md"
    call_command("api_docs", output=str(target))
    assert target.read_text(encoding="utf-8") == generated()
