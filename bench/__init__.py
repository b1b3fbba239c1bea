"""Load benchmarks for Baojing. See bench/README.md."""
