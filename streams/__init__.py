"""Stream processing: topics, the Faust app and its agents, the rule engine."""
