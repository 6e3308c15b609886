#!/usr/bin/env bash
# make caffe-test: Caffe's own test suites against the Caffe that `make setup` installed.
#   pycaffe's (python/caffe/test) always; the C++ suite (src/caffe/test, built on demand in the
#   cache entry's build folder, 1,000+ tests) unless CAFFE_CPP_TESTS=0.
# Skipped, with the reason: test_draw (needs pydot, which caffe-fcn does not install) and every
# *GPU* C++ test (the CPU build has no GPU code; Caffe's own runtest target filters them the same way).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="${VENV:-$ROOT/.venv}"
JOBS="${JOBS:-$(nproc)}"
CPP="${CAFFE_CPP_TESTS:-1}"

site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ ! -f "$site/caffe/CACHE_ENTRY" ]; then
    echo "caffe-test: no Caffe installed by make setup in $VENV; run 'make setup' first" >&2
    exit 1
fi
entry=$(cat "$site/caffe/CACHE_ENTRY")
src="$entry/src"
if [ ! -d "$src/python/caffe/test" ]; then
    echo "caffe-test: the build cache entry $entry has no source tree; remove it and run 'make setup'" >&2
    exit 1
fi

echo "caffe-test: pycaffe's tests ($src/python/caffe/test) against $site/caffe"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/python/caffe/test" "$work/test"
# Outside the repository, with no pytest configuration of ours; the test folder itself goes on
# sys.path (test_python_layer's nets name their layer modules by file name).
(cd "$work/test" && "$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs -c /dev/null \
    --rootdir "$work/test" --ignore=test_draw.py .)

if [ "$CPP" = 0 ]; then
    echo "caffe-test: C++ suite skipped (CAFFE_CPP_TESTS=0)"
    exit 0
fi
echo "caffe-test: building Caffe's C++ tests in $src/build (target test.testbin, -j $JOBS)"
t0=$(date +%s)
cmake --build "$src/build" --target test.testbin -j "$JOBS" >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; echo "caffe-test: building the C++ tests failed" >&2; exit 1; }
echo "caffe-test: built in $(( $(date +%s) - t0 )) s; running from the source root (as Caffe's runtest target)"
t0=$(date +%s)
(cd "$src" && ./build/test/test.testbin --gtest_shuffle --gtest_filter='-*GPU*' 2>&1 | tail -n 25)
echo "caffe-test: C++ suite ran in $(( $(date +%s) - t0 )) s"
