"""health: how the sources are doing, for operators. Pure, but for `peek`.

`metrics` (one SourceHealth per source; Prometheus text), `pages` (the status page and
the operator feed), `status` (the rows and advice of `aggregator status`) and `peek` (a
quick read-only look at an SQLite store for `status`, without SQLAlchemy)."""
