"""Benchmarks: what caffe-fcn costs, measured against bare pycaffe and the machine's limit.

Each module is a script (`python -m bench.<name>`) that prints its figures and writes them, with
a description of the machine, to bench/results/<name>.json; `python -m bench.run` (`make bench`)
runs them all. See README.md, section Benchmarks.
"""
