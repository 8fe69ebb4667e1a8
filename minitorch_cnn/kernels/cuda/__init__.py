"""CUDA kernels: ``numba.cuda.jit`` kernels and their host-side launchers. Each launcher takes
device arrays (CuPy, or NumPy under ``NUMBA_ENABLE_CUDASIM=1``) with the CPU kernel's signature."""
