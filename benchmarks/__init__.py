"""Reproducible timings: each benchmark reports a ratio against a baseline
measured in the same run (machines are noisy; absolute times drift)."""
