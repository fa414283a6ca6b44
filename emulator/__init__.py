"""Trigger logic: algorithms, stages, chains, menu, rates and latency."""
