"""The models one service serves: their names and sources (``EMOQ_MODELS``) and how their labels are shown."""
