"""Source type → adapter factory, so ``watchfloor connect`` builds one adapter per type it needs.

A factory is ``make_adapter(session, settings) -> SourceAdapter``. Each connector package exposes one
at a conventional place (``connectors.<type>.source:make_adapter``) and is imported only when a
configured source needs it, so a connector whose optional dependencies are missing never stops the
others. ``register`` adds or replaces a factory at run time (tests, plug-ins).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable

import aiohttp

from connectors.base import SourceAdapter
from core.settings import Settings

log = logging.getLogger(__name__)

AdapterFactory = Callable[[aiohttp.ClientSession, Settings], SourceAdapter]

_LOCATIONS: dict[str, str] = {
    "rss": "connectors.rss.source:make_adapter",
    "telegram": "connectors.telegram.adapter:make_adapter",
}
_FACTORIES: dict[str, AdapterFactory] = {}


def register(source_type: str, factory: AdapterFactory) -> None:
    _FACTORIES[source_type] = factory


def factory_for(source_type: str) -> AdapterFactory | None:
    if source_type in _FACTORIES:
        return _FACTORIES[source_type]
    location = _LOCATIONS.get(source_type)
    if location is None:
        return None
    module_name, _, attr = location.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        log.warning("No %s adapter available (%s: %s); %s sources are skipped.", source_type,
                    type(exc).__name__, exc, source_type)
        return None
    _FACTORIES[source_type] = factory
    return factory


def build_adapters(types: Iterable[str], session: aiohttp.ClientSession, settings: Settings) -> dict[str, SourceAdapter]:
    """One adapter per source type in ``types`` that has a factory."""
    adapters: dict[str, SourceAdapter] = {}
    for source_type in sorted(set(types)):
        factory = factory_for(source_type)
        if factory is not None:
            adapters[source_type] = factory(session, settings)
    return adapters
