"""minitorch_cnn: a from-scratch deep-learning engine for convolutional networks."""
from setuptools import find_packages, setup

setup(
    name="minitorch_cnn",
    version="0.1.0",
    description="A from-scratch deep-learning engine for convolutional networks "
                "(NumPy + Numba on the CPU, CuPy + Numba CUDA on the GPU)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["minitorch_cnn", "minitorch_cnn.*"]),
    package_data={"minitorch_cnn.data": ["mnist_sample/*.gz", "mnist_sample/*.txt"],
                  "minitorch_cnn.exercises": ["templates/*.py"]},
    install_requires=["numpy>=1.24", "numba>=0.58", "tqdm>=4.60"],
    extras_require={
        "cuda": ["cupy-cuda12x>=13"],
        "test": ["pytest>=7", "hypothesis>=6"],
        "oracle": ["torch==2.13.0"],
        "safetensors": ["safetensors"],
        "plot": ["matplotlib>=3.5"],
    },
)
