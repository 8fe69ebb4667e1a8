"""Benchmark cases, one module per topic; each module defines ``CASES``, a list of
``benchmarks.harness.Case``. ``python -m benchmarks --list`` shows them all."""
