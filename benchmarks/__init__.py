"""Benchmarks: scripts that print tables (see README.md); not part of the test suite."""
