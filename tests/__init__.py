"""Repository-level tests: static checks, end-to-end runs and benchmarks."""
