"""Request structs in the OpenAPI schema say `additionalProperties: false` when they refuse unknown fields.

Litestar's schema for a msgspec struct lists its fields but not `forbid_unknown_fields`, so a client
generated from the schema (or a fuzzer) would think it may send others, which the server refuses
with 400. This plugin is Litestar's own struct plugin plus that one key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's msgspec struct schemas, closed (`additionalProperties: false`) where the struct is."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType) and info.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
