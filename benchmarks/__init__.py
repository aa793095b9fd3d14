"""Reproducible benchmarks of Seeing Assistant, run on random-weight models built offline."""
