"""Benchmarks: scripts that print figures (not timed tests); see README "Benchmarks"."""
