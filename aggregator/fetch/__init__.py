"""fetch: the only network code of a poll. A source's URL and its FeedState -> the bytes
of its feed (`http.Fetcher`: conditional GET, timeouts, size caps, politeness per host),
or a classified FeedError; `discover` finds the feed an HTML page advertises."""
