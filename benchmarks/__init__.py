"""Benchmarks of minitorch_cnn against PyTorch CPU, run in one process: ``python -m benchmarks``."""
