"""The message and config contracts of watchfloor. Every model here is exported as JSON Schema to
``schemas/json/`` by ``watchfloor schemas export``; a test keeps those files in step."""

from schemas.alert import Alert
from schemas.base import Message, Severity, SourceType, utcnow
from schemas.classified import ClassifiedItem, EntityHit, Match, ThemeHit, TriggerHit
from schemas.desk import DeskAction
from schemas.item import Item, TelegramMeta
from schemas.rules import EntityDef, RulePack, ThemeRule, TriggerRule
from schemas.source import SeenItem, Source, SourceState
from schemas.webhook import WebhookConfig, WebhookEndpoint

# The models that get a JSON Schema file of their own: the documents, not their parts.
EXPORTED_MODELS = {
    "item": Item,
    "classified_item": ClassifiedItem,
    "alert": Alert,
    "source": Source,
    "source_state": SourceState,
    "rule_pack": RulePack,
    "webhook_config": WebhookConfig,
    "desk_action": DeskAction,
}

__all__ = [
    "Alert", "ClassifiedItem", "DeskAction", "EntityDef", "EntityHit", "EXPORTED_MODELS", "Item", "Match",
    "Message", "RulePack", "SeenItem", "Severity", "Source", "SourceState", "SourceType",
    "TelegramMeta", "ThemeHit", "ThemeRule", "TriggerHit", "TriggerRule", "utcnow",
    "WebhookConfig", "WebhookEndpoint",
]
