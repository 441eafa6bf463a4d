"""Webhook events for finished jobs and batches, and their signed, retried delivery."""
