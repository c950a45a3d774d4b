"""The shared transformer: windows over long documents, length-sorted batches, a lean loader, and pooling of sub-words into words."""
