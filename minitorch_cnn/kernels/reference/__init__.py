"""Plain NumPy references of every kernel: slow, obvious, and the oracle the tests compare with."""
