"""aggregator: poll many feeds, merge the same story, score it, republish one curated feed."""

__version__ = "0.1.0"
