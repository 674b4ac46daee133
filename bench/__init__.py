"""Benchmark harness for certsvc: ``python -m bench.run [--quick|--smoke] [--out FILE.json]``.

Not a test suite: it starts the real service as a subprocess, drives it over HTTP on 127.0.0.1,
measures in-run baselines on the same machine, prints a table and writes JSON. See ``bench/README.md``.
"""
