"""publish: scored stories -> what readers get. Render is pure, writing is I/O.

`digest` (the items a reader sees, shared by every format), `excerpt`, `page` (HTML,
Jinja2), `feeds` (Atom, RSS, JSON Feed; atomic writes to the output folder), `archive`
(RFC 5005 weekly archives), `websub` (the hub ping after a write) and `serve` (the output
folder over HTTP)."""
