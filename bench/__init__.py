"""AutoML benchmarking harness: suites -> jobs -> isolated workers -> scored rows -> reports."""

__version__ = "0.1.0"
