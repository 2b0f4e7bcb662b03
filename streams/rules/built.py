"""Result models set up from values that already have their fields' types, without validating them again.

The rule engine builds every hit from dicts it made itself, the classify stage every classified item from
an item it decoded and the engine's hits, and the alerts every alert from a classified item: each value is
already of its field's type. Where the C loops are built, ``native.models`` sets such an instance up as
pydantic's validator sets one up (the type's ``tp_new``, the dict as ``__dict__``, the fields set), without the
checks: ~0.2 µs an object against ~0.6 for a hit, ~1 µs against ~3 for a classified item and ~7 for an alert.

Only for models that validation would set up the same way: no validator of any kind (a field or model
validator, an ``AfterValidator`` in an annotation: the core schema holds no function step) other than the
UTC one of ``schemas.base.UtcDatetime``, no post-init hook, no private attributes, extra fields ignored. The
UTC validator returns a timestamp already in UTC as it is, so ``ModelBuilder`` builds only when every
timestamp given is, and validates the values otherwise.
"""

from __future__ import annotations

from datetime import timezone

from schemas import base
from streams.rules import native

# The UTC validator in each spelling ``UtcDatetime`` may hold (the C function or its twin).
_UTC_VALIDATORS = tuple(filter(None, (base.to_utc, base.py_to_utc, getattr(base._utc, "to_utc", None))))
# Settings under which validation changes a value the builder would keep as given.
_TRANSFORMING_CONFIG = ("str_strip_whitespace", "str_to_lower", "str_to_upper", "use_enum_values",
                        "coerce_numbers_to_str")


def _function_steps(node, *, nested_opaque: bool = False) -> bool:
    """Whether a core schema holds a function step (a validator's call). With ``nested_opaque``, a nested model's
    schema is not looked into: the builder is given its instance, which validation keeps as it is."""
    if isinstance(node, dict):
        if nested_opaque and node.get("type") in ("model", "definition-ref"):
            return False
        if str(node.get("type", "")).startswith("function-"):
            return True
        return any(_function_steps(value, nested_opaque=nested_opaque) for value in node.values())
    return isinstance(node, (list, tuple)) and any(_function_steps(value, nested_opaque=nested_opaque)
                                                   for value in node)


def _utc_step(node) -> bool:
    """Whether a field's schema is the UTC validator around a plain schema (a ``UtcDatetime`` field)."""
    function = node.get("function") if isinstance(node, dict) else None
    return (node.get("type") == "function-after" and isinstance(function, dict)
            and function.get("function") in _UTC_VALIDATORS and not _function_steps(node.get("schema")))


def _field_schemas(cls) -> dict[str, dict] | None:
    """Each field's core schema, or None for a model whose schema is not the plain model-fields kind."""
    schema = cls.__pydantic_core_schema__
    if schema.get("type") == "definitions":
        schema = schema.get("schema", {})
    fields = schema.get("schema", {}) if schema.get("type") == "model" else {}
    if fields.get("type") != "model-fields":
        return None
    return {name: field["schema"] for name, field in fields["fields"].items()}


def utc_fields(cls) -> tuple[str, ...]:
    """The fields of ``cls`` that are ``UtcDatetime`` (the UTC validator and nothing else)."""
    return tuple(name for name, schema in (_field_schemas(cls) or {}).items() if _utc_step(schema))


def built_as_validated(cls, *, utc: bool = False) -> bool:
    """Whether ``native.models`` sets ``cls`` up as validation does (module docstring). With ``utc``: for values
    already in UTC given to a ``UtcDatetime`` field, and nested models given as instances, so a field may be a
    ``UtcDatetime`` or a nested model whatever that model validates, and nothing else may call a function."""
    decorators = cls.__pydantic_decorators__
    if (cls.__pydantic_post_init__ is not None or cls.__private_attributes__ or cls.__pydantic_custom_init__
            or cls.model_config.get("extra") != "ignore"
            or any(cls.model_config.get(key) for key in _TRANSFORMING_CONFIG)
            or decorators.validators or decorators.field_validators or decorators.root_validators
            or decorators.model_validators):
        return False
    if not utc:
        return not _function_steps(cls.__pydantic_core_schema__)
    fields = _field_schemas(cls)
    return fields is not None and all(_utc_step(schema) or not _function_steps(schema, nested_opaque=True)
                                      for schema in fields.values())


class ModelBuilder:
    """``build(values)``: the ``cls`` instance of ``values``, a fresh dict holding every field of ``cls`` in field
    order, each value of its field's type (a nested model as its instance; lists as new lists: the instance keeps
    them). Set up by ``native.models`` where it can (every timestamp in UTC), else validated."""

    def __init__(self, cls):
        self.cls = cls
        self.fields = frozenset(cls.model_fields)
        self.timestamps = utc_fields(cls)
        self.validate = cls.__pydantic_validator__.validate_python
        self.native = native.models if native.models is not None and built_as_validated(cls, utc=True) else None

    def build(self, values: dict):
        if self.native is None:
            return self.validate(values)
        for name in self.timestamps:
            if getattr(values[name], "tzinfo", None) is not timezone.utc:
                return self.validate(values)
        return self.native(self.cls, self.fields, [values], None)[0]
