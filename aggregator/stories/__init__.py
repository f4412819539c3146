"""stories: the story engine. New entries -> stories -> related stories, on one set of
vectors per entry.

- vectors.py: an entry's text -> its lexical and semantic views, packed in one BLOB that
  is stored with the entry (embedded once, never again).
- pool.py: a batch's entries as matrices, and stories as running sums of vectors.
- grouping.py: a batch of new entries -> the story each joins (average link over running
  sums, candidates from one sparse product, decided in a canonical order).
- members.py: stored entries -> stories and their representatives.
- related.py: stories -> related stories (centroids, diversified).
The pipeline (pipeline.py) loads the window from the store and writes the decisions back.
Each is imported from its module: this package imports nothing, so that reading a
representative rule (members.py) does not load numpy and scipy.
"""
