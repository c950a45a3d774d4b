"""Files: named errors for damaged saved files, DocBin reading, and outputs written atomically."""
