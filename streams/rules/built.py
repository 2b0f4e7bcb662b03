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


def _function_steps(node, allowed: tuple) -> bool:
    """Whether a core schema holds a function step other than one calling a function of ``allowed``."""
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("function-"):
            function = node.get("function")
            if not (node["type"] == "function-after" and isinstance(function, dict)
                    and function.get("function") in allowed):
                return True
            return _function_steps(node.get("schema"), allowed)
        return any(_function_steps(value, allowed) for value in node.values())
    return isinstance(node, (list, tuple)) and any(_function_steps(value, allowed) for value in node)


def built_as_validated(cls, *, utc: bool = False) -> bool:
    """Whether ``native.models`` sets ``cls`` up as validation does (module docstring); with ``utc``, a model
    whose only function steps are the UTC validator counts (for values already in UTC)."""
    decorators = cls.__pydantic_decorators__
    return (cls.__pydantic_post_init__ is None and not cls.__private_attributes__
            and cls.model_config.get("extra") == "ignore"
            and not (decorators.validators or decorators.field_validators or decorators.root_validators
                     or decorators.model_validators)
            and not _function_steps(cls.__pydantic_core_schema__, _UTC_VALIDATORS if utc else ()))


class ModelBuilder:
    """``build(values)``: the ``cls`` instance of ``values``, a fresh dict holding every field of ``cls`` in field
    order, each value of its field's type (lists as new lists: the instance keeps them). Set up by
    ``native.models`` where it can (every timestamp in UTC), else validated."""

    def __init__(self, cls):
        self.cls = cls
        self.fields = frozenset(cls.model_fields)
        self.timestamps = tuple(name for name, info in cls.model_fields.items()
                                if any(getattr(m, "func", None) in _UTC_VALIDATORS for m in info.metadata))
        self.validate = cls.__pydantic_validator__.validate_python
        self.native = native.models if native.models is not None and built_as_validated(cls, utc=True) else None

    def build(self, values: dict):
        if self.native is None:
            return self.validate(values)
        for name in self.timestamps:
            if getattr(values[name], "tzinfo", None) is not timezone.utc:
                return self.validate(values)
        return self.native(self.cls, self.fields, [values], None)[0]
