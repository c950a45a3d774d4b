"""The tagger's model: BIOES tags, the CRF that decodes them, the architecture, and the rule for words the encoder sees no sub-word of."""
