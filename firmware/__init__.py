"""Firmware generation: hls4ml projects, testbenches, bit-exactness and budget checks."""
