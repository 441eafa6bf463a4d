"""Recovery and retention: jobs whose worker died or whose broker message was lost, and expired data."""
