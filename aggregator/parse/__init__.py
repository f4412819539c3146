"""parse: bytes + HTTP headers -> ParsedFeed -> Items. Pure, but for the process pool.

`feed` (feedparser, the only import of it) and `fast` (lxml, the quick path for plain
documents) read a document into a ParsedFeed (`parsed`: the stage's own records);
`normalise` turns its entries into Items; `signature` gives the tokens that identify an
entry's story; `pool` runs parse and normalise in other processes so that parsing is not
held to one core."""
