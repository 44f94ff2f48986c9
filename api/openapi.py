"""The OpenAPI document's schemas of request and response bodies, taken from msgspec itself.

Bodies are msgspec Structs, and msgspec is what decodes and encodes them, so its own JSON Schema is
the contract. Litestar's generator drifts from it: it drops a constraint of an optional field whose
value is falsy (`ge=0` on `priority: int | None` vanished; see also litestar issue #4650) and never
says that unknown fields are refused (`forbid_unknown_fields`). Schemathesis found both: documented-valid
requests were refused. This plugin documents every Struct with `msgspec.json.schema_components`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import msgspec
from litestar.openapi.spec import OpenAPIType, Reference, Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


def _keyword(field: dataclasses.Field[Any]) -> str:
    """The JSON Schema keyword of one of Schema's attributes (`max_length` -> `maxLength`)."""
    alias: str | None = field.metadata.get("alias")
    head, *rest = field.name.split("_")
    return alias or head + "".join(part.title() for part in rest)


_ATTRIBUTES = {_keyword(field): field.name for field in dataclasses.fields(Schema)}  # keyword -> attribute
_SCHEMA_LISTS = frozenset({"anyOf", "allOf", "oneOf", "prefixItems"})
_SCHEMA_VALUES = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames"})
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
Refer = Callable[[str], Schema | Reference]


class MsgspecSchemaPlugin(OpenAPISchemaPlugin):
    """Every msgspec Struct as msgspec describes it; nested Structs become components of their own."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(msgspec.Struct)

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        struct: type[msgspec.Struct] = field_definition.type_
        (root,), components = msgspec.json.schema_components([struct], ref_template="{name}")
        named = {cls.__name__: cls for cls in _named_types(msgspec.inspect.type_info(struct))}

        def reference(name: str) -> Schema | Reference:
            return schema_creator.for_field_definition(FieldDefinition.from_annotation(named[name]))

        # The registered component (Litestar turns it into a $ref and names it), filled in place.
        schema = schema_creator.schema_registry.get_schema_for_field_definition(field_definition)
        converted = _convert(components[root["$ref"]], reference)
        assert isinstance(converted, Schema)  # noqa: S101 - a Struct's schema is an object, never a bare $ref
        for field in dataclasses.fields(Schema):
            setattr(schema, field.name, getattr(converted, field.name))
        return schema


def _convert(node: dict[str, Any], reference: Refer) -> Schema | Reference:
    """A JSON Schema dict as Litestar's Schema; `{"$ref": name}` through `reference(name)`."""
    if "$ref" in node:
        return reference(node["$ref"])
    # KeyError: a keyword this conversion does not know yet.
    attributes = {_ATTRIBUTES[keyword]: _convert_value(keyword, value, reference) for keyword, value in node.items()}
    return Schema(**attributes)


def _convert_value(keyword: str, value: Any, reference: Refer) -> Any:
    if keyword in _SCHEMA_LISTS:
        return [_convert(item, reference) for item in value]
    if keyword in _SCHEMA_VALUES and isinstance(value, dict):
        return _convert(value, reference)
    if keyword in _SCHEMA_MAPS:
        return {name: _convert(item, reference) for name, item in value.items()}
    if keyword == "type":
        return [OpenAPIType(v) for v in value] if isinstance(value, list) else OpenAPIType(value)
    return value


def _named_types(info: msgspec.inspect.Type) -> Iterator[type]:
    """Every type msgspec names as a component (Structs, dataclasses, enums...) reachable from `info`."""
    seen: set[type] = set()
    pending = [info]
    while pending:
        current = pending.pop()
        cls = getattr(current, "cls", None)
        if isinstance(cls, type):
            if cls in seen:
                continue
            seen.add(cls)
            yield cls
        if isinstance(current, msgspec.inspect.Metadata):
            pending.append(current.type)
        elif isinstance(current, msgspec.inspect.UnionType):
            pending.extend(current.types)
        elif isinstance(current, msgspec.inspect.TupleType):
            pending.extend(current.item_types)
        elif isinstance(current, msgspec.inspect.DictType):
            pending.extend((current.key_type, current.value_type))
        elif isinstance(current, msgspec.inspect.CollectionType):
            pending.append(current.item_type)
        pending.extend(field.type for field in getattr(current, "fields", ()))
