"""The OpenAPI document completed with what every operation shares, so that it describes every
answer the API gives (schemathesis checks it, tests/api/test_fuzz.py).

flask-restx documents what each resource declares; the answers that come from the shell rather
than the resource are added here, once: 400 (a query argument or body is invalid), 401 (no valid
token), 404 (a path names nothing), 413 (the body is over `max_body_bytes`), 503 (the database is
unreachable), each with the one error body `{"message", "field"}`."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {"type": "object", "required": ["message"],
                "properties": {"message": {"type": "string"},
                               "field": {"type": "string", "description": "The invalid field, on a 400"}}}
_ERROR_REF = {"$ref": "#/definitions/Error"}
_READS = ("get", "head", "options")


def complete(doc: dict[str, Any], *, reads_require_token: bool) -> dict[str, Any]:
    """`doc` (flask-restx's Swagger 2.0 dict) with the shared answers of every operation.

    Reads are documented without security when they are open, so that the document says which
    operations need a token."""
    doc.setdefault("definitions", {})["Error"] = ERROR_SCHEMA
    # flask-restx lists each registered error handler as an empty top-level response; they
    # are described per operation below instead.
    doc.pop("responses", None)
    for item in doc["paths"].values():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            params = shared + operation.get("parameters", [])
            _complete_operation(operation, method, params, reads_require_token=reads_require_token)
    return doc


def _complete_operation(operation: dict[str, Any], method: str, params: list[dict[str, Any]], *,
                        reads_require_token: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # flask-restx adds its default 200 only to operations that declare no response at all.
    if not any(code.startswith("2") for code in responses):
        responses["200"] = {"description": "Success"}

    def error(code: int, description: str) -> None:
        responses.setdefault(str(code), {"description": description}).setdefault("schema", _ERROR_REF)

    where = {param["in"] for param in params}
    if where & {"query", "body", "formData"}:
        error(400, "A query argument or the body is invalid: `message` (and `field`) name it")
    if method not in _READS or reads_require_token:
        error(401, "No valid 'Authorization: Token <token>' header")
    else:
        operation["security"] = []
    if "path" in where:
        error(404, "The path names nothing")
    if "body" in where:
        error(413, "The body is larger than the server's max_body_bytes")
    error(503, "The database is unreachable; retry later")
    # Errors are JSON whatever an operation produces on success (a file, a log).
    produces = operation.get("produces")
    if produces and "application/json" not in produces:
        operation["produces"] = [*produces, "application/json"]
