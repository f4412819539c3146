"""aggregator: poll many feeds, merge the same story, score it, republish one curated feed."""

__version__ = "0.1.0"

# The project's home, as `[project.urls] Homepage` in pyproject.toml says (a test keeps the
# two the same; reading the installed metadata would cost ~40 ms at every start). The
# default User-Agent and the JSON Feed extension's `about` point here.
HOMEPAGE = "https://github.com/aggregator/aggregator"
