"""Plugins for spaCy's training loop: callbacks and loggers."""
