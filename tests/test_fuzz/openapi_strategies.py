"""Requests made from the service's own OpenAPI document, with hypothesis (what schemathesis would do:
no release of it installs beside Rasa 3.6's jsonschema 3.2, see requirements.in).

`operations(spec)` lists every operation; `request_parts(operation, ...)` draws its path parameters,
query and JSON body: values that follow the schema, values that break it (wrong types, missing
fields, out-of-range numbers, any JSON), and raw bytes that are no JSON at all.
`response_validator(spec, schema)` checks a 2xx body against the documented schema.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from hypothesis import strategies as st
from jsonschema import Draft7Validator, RefResolver

from tests.test_fuzz.texts import any_char, utf8_char

Schema = Dict[str, Any]
MAX_DEPTH = 4

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(), st.text(any_char, max_size=30)
)
any_json = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(any_char, max_size=10), inner, max_size=4)),
    max_leaves=15,
)


@dataclass(frozen=True)
class Parameter:
    name: str
    schema: Schema
    required: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: Tuple[Parameter, ...]
    query: Tuple[Parameter, ...]
    body: Optional[Schema]
    body_required: bool
    responses: Dict[str, Schema]  # status -> JSON schema of the body

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(spec: Schema) -> List[Operation]:
    found = []
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            parameters = [Parameter(p["name"], p.get("schema", {}), p.get("required", False)) for p in operation.get("parameters", [])]
            body = operation.get("requestBody") or {}
            responses = {
                status: answer["content"]["application/json"].get("schema", {})
                for status, answer in operation.get("responses", {}).items()
                if "application/json" in answer.get("content", {})
            }
            found.append(Operation(
                method.upper(), path,
                tuple(p for p, raw in zip(parameters, operation.get("parameters", []), strict=True) if raw["in"] == "path"),
                tuple(p for p, raw in zip(parameters, operation.get("parameters", []), strict=True) if raw["in"] == "query"),
                body.get("content", {}).get("application/json", {}).get("schema"),
                bool(body.get("required")),
                responses,
            ))
    return found


def resolve(schema: Schema, spec: Schema) -> Schema:
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if "allOf" in schema and len(schema["allOf"]) == 1:  # pydantic v1 wraps a model with a default this way
        return resolve(schema["allOf"][0], spec)
    return schema


def valid(schema: Schema, spec: Schema, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that follow `schema` (as far as a generator easily can)."""
    schema = resolve(schema, spec)
    if depth > MAX_DEPTH:
        return st.none()
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([valid(option, spec, depth + 1) for option in schema[key]])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(_bound(schema, "minimum", -(2**40)), _bound(schema, "maximum", 2**40))
    if kind == "number":
        low, high = schema.get("minimum"), schema.get("maximum")
        unbounded = low is None and high is None  # Python's json reads NaN and Infinity too
        return st.floats(low, high, allow_nan=unbounded, allow_infinity=unbounded)
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = valid(schema.get("items", {}), spec, depth + 1)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 5), 5))
    if kind == "object" or "properties" in schema:
        return _object(schema, spec, depth)
    return any_json


def _bound(schema: Schema, key: str, default: int) -> int:
    return int(schema[key]) if key in schema else default


def _string(schema: Schema) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 60)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: low <= len(s) <= high)
    return st.text(any_char, min_size=low, max_size=min(high, max(low, 60)))


def _object(schema: Schema, spec: Schema, depth: int) -> st.SearchStrategy[Dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    fixed = {name: valid(sub, spec, depth + 1) for name, sub in properties.items() if name in required}
    optional = {name: valid(sub, spec, depth + 1) for name, sub in properties.items() if name not in required}
    extra = schema.get("additionalProperties")
    strategy = st.fixed_dictionaries(fixed, optional=optional)
    if isinstance(extra, dict) and not properties:
        strategy = st.dictionaries(st.text(utf8_char, max_size=12), valid(extra, spec, depth + 1), max_size=4)
    return strategy


def broken(schema: Schema, spec: Schema) -> st.SearchStrategy[Any]:
    """Values that break `schema`: any JSON, or a valid object with one field dropped or replaced."""
    schema = resolve(schema, spec)
    properties = list(schema.get("properties", {}))
    if not properties:
        return any_json
    return st.one_of(
        any_json,
        st.tuples(valid(schema, spec), st.sampled_from(properties), any_json).map(
            lambda drawn: {**drawn[0], drawn[1]: drawn[2]}),
        st.tuples(valid(schema, spec), st.sampled_from(properties)).map(
            lambda drawn: {key: value for key, value in drawn[0].items() if key != drawn[1]}),
    )


def body_bytes(schema: Optional[Schema], spec: Schema) -> st.SearchStrategy[Optional[bytes]]:
    """A JSON body (NaN and lone surrogates included, as Python's json writes them), raw bytes, or none."""
    as_json = (valid(schema, spec) | broken(schema, spec)) if schema else any_json
    return st.one_of(
        as_json.map(lambda value: json.dumps(value).encode()),
        as_json.map(lambda value: json.dumps(value).encode()),
        as_json.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=100),
        st.none(),
    )


def path_value(known: List[str]) -> st.SearchStrategy[str]:
    """A value for one path segment: a known id, or any text (never empty, "." or ".." nor with "/",
    which would name another route)."""
    text = st.text(utf8_char, min_size=1, max_size=80).filter(lambda s: "/" not in s and s not in (".", ".."))
    return (st.sampled_from(known) | text) if known else text


def utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def query_value(schema: Schema, spec: Schema) -> st.SearchStrategy[str]:
    """A value for one query parameter. A URL carries UTF-8 only: a string drawn from the schema
    with a lone surrogate ("\ud800") cannot even be sent, so it is drawn again."""
    as_text = valid(schema, spec).map(lambda v: json.dumps(v) if not isinstance(v, str) else v).filter(utf8_encodable)
    return st.one_of(as_text, st.text(utf8_char, max_size=40), st.sampled_from(["nan", "inf", "-inf", "1e309", "-1", ""]))


@st.composite
def request_parts(draw, operation: Operation, spec: Schema, known: Dict[str, List[str]]) -> Tuple[str, Dict[str, str], Optional[bytes]]:
    """(URL with its path filled in, query, body) for one call of `operation`."""
    url = operation.path
    for parameter in operation.path_params:
        value = draw(path_value(known.get(parameter.name, [])))
        url = url.replace("{" + parameter.name + "}", quote(value, safe=""))
    query = {}
    for parameter in operation.query:
        if parameter.required or draw(st.booleans()):
            query[parameter.name] = draw(query_value(parameter.schema, spec))
    return url, query, draw(body_bytes(operation.body, spec))


def response_validator(spec: Schema, schema: Schema) -> Draft7Validator:
    """Pydantic v1 writes no nullability: a field that is not required, or a dict's value, may be null."""
    tolerant = _nullable_optionals(copy.deepcopy(spec))
    return Draft7Validator(_nullable_optionals(copy.deepcopy(schema)), resolver=RefResolver.from_schema(tolerant))


def _nullable_optionals(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable_optionals(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_optionals(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict):
        required = set(node.get("required", []))
        node["properties"] = {
            name: sub if name in required else {"anyOf": [sub, {"type": "null"}]} for name, sub in node["properties"].items()
        }
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = {"anyOf": [node["additionalProperties"], {"type": "null"}]}
    return node
