"""Benchmarks: the worker beside hand-written baselines, reported as ratios (`python -m bench`)."""
