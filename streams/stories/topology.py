"""The story stages wired between ``story-probes`` and ``items.stories`` (steps 2 and 3 of
``streams/stories/stages.py``); step 1, the router, is chained into the classify stage."""

from __future__ import annotations

from streams.stage import BatchStage
from streams.stories.resolve import StoryResolveStage
from streams.stories.stages import StoryIndexStage


def story_stages(settings, names: dict[str, str], group: str, common: dict) -> list[BatchStage]:
    """The index and resolve stages (steps 2 and 3), between ``story-probes`` and ``items.stories``."""
    return [
        StoryIndexStage(settings, votes_topic=names["story_votes"], index_topic=names["story_index"],
                        source_topic=names["story_probes"], group_id=f"{group}.story-index", **common),
        StoryResolveStage(settings, stories_topic=names["items_stories"], probes_topic=names["story_probes"],
                          source_topic=names["story_votes"], group_id=f"{group}.story-resolve", **common),
    ]
