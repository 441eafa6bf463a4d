"""Prometheus metrics: how each process keeps and serves them, and what the API reads at scrape time."""
