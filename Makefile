# caffe-fcn: every entry point a researcher types. `make help` lists them.
PYTHON := .venv/bin/python
REQUIRE_VENV = @test -x $(PYTHON) || { echo "No project environment: run 'make setup' first." >&2; exit 1; }

.PHONY: help setup test

help:
	@echo "make setup   install Debian packages, .venv and BVLC Caffe (cached build)"
	@echo "make test    run the test suite"

setup:
	bash setup/setup.sh

test:
	$(REQUIRE_VENV)
	$(PYTHON) -m pytest
