"""ConNER's consistency training: the losses (pure torch), the Thinc layer that applies them, the groups and batches they read, conjugate pairs on Docs and in DocBins, and diagnostics."""
