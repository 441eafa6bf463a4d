"""Labelled audio uploaded to train on: the manifest, the archive guard, the checks and the stored rows."""
