"""Declares the error envelope (config/errors.py) on every operation of the OpenAPI schema."""

from formulary.common.api_fields import FIELDS_PARAMETER, FieldSelectionMixin
from products.api.catalogue import COUNTS_SCHEMA

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "details"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string", "nullable": True},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
ERROR_RESPONSES = {
    "400": "Invalid parameter: the details name each parameter and the problem.",
    "404": "Unknown path, slug or GTIN.",
    "405": "Method not allowed.",
    "406": "Not acceptable: this API answers in JSON.",
    "413": "The request body is too large.",
    "415": "Unsupported or missing Content-Type.",
    "429": "Too many requests: wait the seconds in Retry-After.",
    "503": "The database is unavailable: retry after the seconds in Retry-After.",
}


def add_error_responses(result, generator, request, public):
    result["components"]["schemas"]["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for operations in result["paths"].values():
        for operation in operations.values():
            for status, description in ERROR_RESPONSES.items():
                operation["responses"].setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
            # Error responses an endpoint declares with only a description get the envelope.
            for status, response in operation["responses"].items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = {"application/json": {"schema": reference}}
    return result


LANG_PARAMETER = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of the texts: nl (default) or en; Accept-Language works too.",
    "schema": {"type": "string", "enum": ["nl", "en"]},
}
OPEN_METHODS = ("get", "head")


def describe_for_generated_clients(result, generator, request, public):
    """What a client generated from the schema needs to know and the views cannot declare:

    - ``lang`` on every read (config.middleware reads it, not the views);
    - no padlock on reads, which are open to anonymous clients (``security: []``; a token
      still shows drafts by GTIN);
    - the ``count`` and ``facets`` the catalogue's page adds when asked;
    - ``fields`` on the reads that select fields (formulary.common.api_fields), with the
      names they know.
    """
    selectable = {
        (path, method.lower()): tuple(view.cls.serializer_class().fields)
        for path, _regex, method, view in generator.endpoints
        if issubclass(view.cls, FieldSelectionMixin)
    }
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            if method not in OPEN_METHODS:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(parameter["name"] == "lang" for parameter in parameters):
                parameters.append(LANG_PARAMETER)
            operation["security"] = []
            if (path, method) in selectable:
                parameters.append(fields_parameter(selectable[path, method]))
                sparse_objects(result["components"]["schemas"], operation)
            if path == "/api/v1/products/" and method == "get":
                page = operation["responses"]["200"]["content"]["application/json"]["schema"]
                name = page["$ref"].rsplit("/", 1)[-1]
                result["components"]["schemas"][name]["properties"].update(COUNTS_SCHEMA)
    return result


def fields_parameter(names) -> dict:
    return {
        "name": FIELDS_PARAMETER,
        "in": "query",
        "required": False,
        "description": "Only these top-level fields of each object; comma-separated or "
        "repeated. An unknown name is a 400 that names it.",
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string", "enum": list(names)}},
    }


def sparse_objects(schemas: dict, operation: dict) -> None:
    """With ``fields=`` an object holds only the fields asked for, so none of its fields is
    required: a generated client would otherwise refuse a selected answer as incomplete."""
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    component = schemas[ok["$ref"].rsplit("/", 1)[-1]]
    results = component.get("properties", {}).get("results")
    if results is not None:  # a page: its results are the objects
        component = schemas[results["items"]["$ref"].rsplit("/", 1)[-1]]
    component.pop("required", None)
