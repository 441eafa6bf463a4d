"""``emoq evaluate``: score a checkpoint on a labelled manifest through the worker's own inference path."""
