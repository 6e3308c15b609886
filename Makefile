# caffe-fcn: every entry point a researcher types. `make help` lists them.
PYTHON := .venv/bin/python
REQUIRE_VENV = @test -x $(PYTHON) || { echo "No project environment: run 'make setup' first." >&2; exit 1; }

.PHONY: help setup test caffe-test cuda-test gpu-check

help:
	@echo "make setup   install Debian packages, .venv and BVLC Caffe (cached build): with CUDA when nvidia-smi shows a GPU;"
	@echo "             CUDA=0 forces the CPU build, CUDA=1 CUDA_ARCHS=\"75 80 86 89 90\" the CUDA build anywhere (README, GPUs)"
	@echo "make cuda-test   build the CUDA Caffe (sm_$(CUDA_TEST_ARCHS)) into .venv-cuda and test it against .venv's CPU build, no GPU needed"
	@echo "make gpu-check   on a GPU machine: make setup (CUDA build), the GPU tests and bench/gpu.py, then a summary"
	@echo "make test    run the test suite"
	@echo "make caffe-test   Caffe's own test suites (pycaffe's, then the C++ suite: builds it first, ~4 min; CAFFE_CPP_TESTS=0 skips it)"
	@echo "make nets    regenerate nets/<variant>/*.prototxt and solvers/ from caffe_fcn/nets (python -m caffe_fcn.nets --list)"
	@echo "make data-voc|data-voc2012|data-sbd|data-nyud|data-siftflow|data-context   download, verify, unpack a dataset into data/"
	@echo "make weights-vgg16|weights-alexnet|weights-googlenet|weights-fcn{32,16,8}s-heavy-pascal   download and verify weights into weights/"
	@echo "make export VARIANT=voc-fcn8s [WEIGHTS=runs/voc-fcn8s/voc-fcn8s.caffemodel] [OUT=runs/voc-fcn8s]   the trained net as OUT/VARIANT.onnx (python -m caffe_fcn.export)"
	@echo "make bench   run the benchmarks twice each (medians): bench/results/*.json and the README table; make bench-quick: smoke pass"
	@echo "make vgg16-fcn|alexnet-fcn|googlenet-fcn   convolutionalize the ILSVRC weights into weights/<trunk>-fcn.caffemodel (python -m caffe_fcn.surgery)"
	@echo "make <variant>   train a variant and every stage before it into runs/ (e.g. make voc-fcn8s; list: python -m caffe_fcn.nets --list)"
	@echo "make demo   the whole pipeline in miniature, offline, on CPU (toy data -> classifier -> surgery -> FCN-32s/16s/8s -> report in runs/demo/)"
	@echo "make demo-data | demo-ablation   only the toy dataset (data/demo/) | FCN-32s from random init vs pre-trained (after make demo)"

setup:
	bash setup/setup.sh

test:
	$(REQUIRE_VENV)
	$(PYTHON) -m pytest

caffe-test:
	$(REQUIRE_VENV)
	bash setup/caffe_tests.sh

# The CUDA build beside the CPU one (its own venv and cache entry), then the tests that need no GPU:
# it imports, finds its libraries, refuses --gpu in one line, equals the CPU build in CPU mode.
CUDA_TEST_ARCHS ?= 90
cuda-test:
	$(REQUIRE_VENV)
	VENV=$(CURDIR)/.venv-cuda LOG_DIR=$(CURDIR)/.setup-logs/cuda CUDA=1 CUDA_ARCHS="$(CUDA_TEST_ARCHS)" bash setup/setup.sh
	CAFFE_FCN_CUDA_VENV=$(CURDIR)/.venv-cuda $(PYTHON) -m pytest -rs tests/test_cuda_build.py tests/test_backend_gpu.py

# On a machine with an NVIDIA GPU: build for it, run the GPU tests and the GPU benchmark (README, GPUs).
gpu-check:
	bash setup/gpu_check.sh

# ---- Data and weights (caffe_fcn.data.fetch; sources and checksums in caffe_fcn/data/sources.py) ----
.PHONY: data-voc data-voc2012 data-sbd data-nyud data-siftflow data-context
data-voc data-voc2012 data-sbd data-nyud data-siftflow data-context:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.data fetch $(@:data-%=%)

.PHONY: weights-vgg16 weights-alexnet weights-googlenet weights-fcn32s-heavy-pascal weights-fcn16s-heavy-pascal weights-fcn8s-heavy-pascal
weights-vgg16 weights-alexnet weights-googlenet weights-fcn32s-heavy-pascal weights-fcn16s-heavy-pascal weights-fcn8s-heavy-pascal:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.data weights $(@:weights-%=%)

# ---- Nets (caffe_fcn.nets: one registry entry per variant; files are generated, never edited) ----
.PHONY: nets
nets:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.nets --write

# ---- Surgery (caffe_fcn.surgery: ILSVRC classifiers -> the fully convolutional weights the 32s nets start from) ----
.PHONY: vgg16-fcn alexnet-fcn googlenet-fcn
vgg16-fcn: weights/vgg16-fcn.caffemodel
alexnet-fcn: weights/alexnet-fcn.caffemodel
googlenet-fcn: weights/googlenet-fcn.caffemodel
weights/vgg16-fcn.caffemodel weights/alexnet-fcn.caffemodel weights/googlenet-fcn.caffemodel:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.surgery $(@:weights/%-fcn.caffemodel=%)

# ---- Training, scoring and comparing (caffe_fcn.train.solve; the stage chain in caffe_fcn.train.chain) ----
# `make voc-fcn8s` trains voc-fcn32s, voc-fcn16s, then voc-fcn8s into runs/<variant>/, skipping every
# stage whose runs/<stage>/<stage>.caffemodel exists; missing data or weights stop it at once with the
# command to run. Pass solve options through SOLVE_ARGS, e.g. make voc-fcn8s SOLVE_ARGS="--gpu 0".
# The variants are the registry's (caffe_fcn/nets/registry.py), listed by it: listing loads no Caffe,
# so the system's python3 lists them too before `make setup` has made .venv.
LIST_PYTHON := $(if $(wildcard $(PYTHON)),$(PYTHON),python3)
VARIANTS := $(shell $(LIST_PYTHON) -m caffe_fcn.nets --list | cut -d' ' -f1)
SOLVE_ARGS ?=
.PHONY: $(VARIANTS)
$(VARIANTS):
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.train.chain $@ $(SOLVE_ARGS)

# ---- ONNX export (caffe_fcn.export; README, "ONNX export and ONNX Runtime"): a trained variant out of Caffe ----
# Writes $(OUT)/$(VARIANT).onnx, by default beside the trained weights of `make <variant>`.
WEIGHTS ?= runs/$(VARIANT)/$(VARIANT).caffemodel
OUT ?= runs/$(VARIANT)
.PHONY: export
export:
	$(REQUIRE_VENV)
	@test -n "$(VARIANT)" || { echo "make export needs VARIANT=<variant> (python -m caffe_fcn.nets --list)" >&2; exit 1; }
	$(PYTHON) -m caffe_fcn.export $(VARIANT) --weights $(WEIGHTS) --out $(OUT)

# ---- Benchmarks (bench/: each prints its figures and writes bench/results/<name>.json; see README, Benchmarks) ----
.PHONY: bench bench-quick
bench:
	$(REQUIRE_VENV)
	$(PYTHON) -m bench.run

bench-quick:
	$(REQUIRE_VENV)
	$(PYTHON) -m bench.run --quick

# ---- The demo (caffe_fcn.demo; README, "The demo"): toy data in VOC's layout, every stage at demo scale ----
# `make demo` makes data/demo/ first (kept if it is already there) and times every step, that one included;
# it refuses to write into a runs/demo/ that holds an earlier run: move it away first.
.PHONY: demo demo-data demo-ablation
demo-data:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.demo data

demo:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.demo run

demo-ablation:
	$(REQUIRE_VENV)
	$(PYTHON) -m caffe_fcn.demo ablation
