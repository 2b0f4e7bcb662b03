"""The worker service: batched stages (classify, then story grouping and alerting), the rule engine,
the Faust app that hosts them."""
