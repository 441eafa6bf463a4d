"""Trainings: custom models trained through the API, on workers that only train."""
