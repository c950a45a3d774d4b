"""Running a trained pipeline: loading it, batching by words, tagging
records of text and marking weak candidate spans."""
