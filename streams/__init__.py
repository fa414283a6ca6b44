"""Data in motion: event model, wire format, sources, sockets, producers, collector.

``streams`` imports neither ``emulator`` nor ``firmware``.
"""
