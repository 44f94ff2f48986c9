"""Simulated external services (email, PDF, warehouse, payment) that deduplicate by idempotency key."""
