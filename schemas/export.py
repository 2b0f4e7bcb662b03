"""Write one JSON Schema file per exported model; the committed copies live in ``schemas/json/``."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import EXPORTED_MODELS

SCHEMA_DIR = Path(__file__).parent / "json"
ID_BASE = "urn:watchfloor:schema:"


def render(name: str) -> str:
    schema = EXPORTED_MODELS[name].model_json_schema(mode="serialization")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"{ID_BASE}{name}:v1", **schema}
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def export(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in EXPORTED_MODELS:
        path = directory / f"{name}.v1.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written
