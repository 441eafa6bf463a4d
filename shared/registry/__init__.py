"""Registered model versions: custom models that trainings made, stored as checkpoint archives."""
