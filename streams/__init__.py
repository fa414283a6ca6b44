"""Data in motion: event model, wire format, sources, sockets, producers, collector.

``streams`` imports neither ``emulator`` nor ``firmware``.
"""

from streams._numba_setup import skip_numba_extensions

skip_numba_extensions()
