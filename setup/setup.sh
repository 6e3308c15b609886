#!/usr/bin/env bash
# make setup: Debian packages, the project venv, and BVLC Caffe (CPU, Python layer)
# built from the brocolli-caffe sdist, cached outside the repo and installed into the venv.
#
# Every step logs to $LOG_DIR/<step>.log; a failing step stops the run with its name and log.
# Safe to re-run: the Caffe build is assembled in a temporary folder and moved into the
# cache only when it imports, so an interrupted run never leaves a "cached" broken build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SETUP_DIR="$ROOT/setup"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CACHE_DIR="${CAFFE_FCN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/caffe-fcn}"
LOG_DIR="${LOG_DIR:-$ROOT/.setup-logs}"
JOBS="${JOBS:-$(nproc)}"
SDIST_NAME=brocolli-caffe
SDIST_VERSION=9.0.2

mkdir -p "$LOG_DIR" "$CACHE_DIR"
START=$(date +%s)
STEP_TIMES=""   # "name": seconds, ... for $LOG_DIR/setup-times.jsonl
CAFFE_CACHE=hit

step() {  # step NAME COMMAND...: run COMMAND with output in $LOG_DIR/NAME.log
    local name=$1; shift
    local log="$LOG_DIR/$name.log"
    local t0; t0=$(date +%s)
    printf 'setup: %-14s ... ' "$name"
    if "$@" >"$log" 2>&1; then
        local dt=$(( $(date +%s) - t0 ))
        STEP_TIMES="$STEP_TIMES${STEP_TIMES:+, }\"$name\": $dt"
        echo "ok ($dt s)"
    else
        echo "FAILED"
        echo "setup: step '$name' failed; see $log" >&2
        tail -n 20 "$log" | sed 's/^/  | /' >&2
        exit 1
    fi
}

apt_packages() {
    grep -v '^\s*#' "$SETUP_DIR/apt-packages.txt" | grep -v '^\s*$'
}

install_apt() {
    local missing=()
    local pkg
    for pkg in $(apt_packages); do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        echo "all Debian packages present"
        return 0
    fi
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
}

make_venv() {
    local version
    version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    if [ "$version" != "3.11" ]; then
        echo "$PYTHON is Python $version; Debian 12's libboost-python is built for 3.11 (set PYTHON=python3.11)"
        return 1
    fi
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
        rm -rf "$VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q \
        -r "$SETUP_DIR/requirements.txt" -c "$SETUP_DIR/constraints.txt"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e "$ROOT" \
        || "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps -e "$ROOT"
}

# The build flags; they are part of the cache key, so changing one rebuilds Caffe.
cmake_flags() {
    local pyinc npinc
    pyinc=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
    npinc=$("$VENV/bin/python" -c "import numpy; print(numpy.get_include())")
    cat <<EOF
-DCMAKE_BUILD_TYPE=Release
-DCPU_ONLY=ON
-DBUILD_python=ON
-DUSE_HDF5=ON
-DANACONDA_HOME=$VENV
-DPYTHON_VERSION=python3.11
-DPYTHON_INCLUDE_DIRS=$pyinc
-DNUMPY_INCLUDE_DIR=$npinc
-DCMAKE_CXX_FLAGS=-DWITH_PYTHON_LAYER -I/usr/include/hdf5/serial
-DCMAKE_SHARED_LINKER_FLAGS=-L/usr/lib/x86_64-linux-gnu/hdf5/serial
EOF
}

# The build does not depend on where the venv lives (only on the Python and numpy versions, which
# are part of the key), so its path is left out: every clone of the repo shares one cached build.
cache_key() {
    {
        echo "$SDIST_NAME==$SDIST_VERSION"
        cmake_flags | sed "s#$VENV#<venv>#g"
        cat "$SETUP_DIR/caffe-sdist.txt" "$SETUP_DIR/patch-caffe.sh"
        "$VENV/bin/python" -c 'import sys, numpy; print(sys.version, numpy.__version__)'
        dpkg-query -W -f='${Package} ${Version}\n' libboost-python-dev libprotobuf-dev libhdf5-dev libopenblas-dev 2>/dev/null
    } | sha256sum | cut -c1-16
}

fetch_sdist() {
    local dir="$CACHE_DIR/sdist"
    mkdir -p "$dir"
    if [ -f "$dir/$SDIST_NAME-$SDIST_VERSION.tar.gz" ]; then
        echo "sdist cached: $dir/$SDIST_NAME-$SDIST_VERSION.tar.gz"
    else
        "$VENV/bin/python" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
            --require-hashes -r "$SETUP_DIR/caffe-sdist.txt" -d "$dir.partial"
        mv "$dir.partial/$SDIST_NAME-$SDIST_VERSION.tar.gz" "$dir/"
        rm -rf "$dir.partial"
    fi
    echo "c6410cc60bdd6db685d441b66be7df05410f8850ac88d6b75d48ef9b2315c08a  $dir/$SDIST_NAME-$SDIST_VERSION.tar.gz" | sha256sum -c -
}

build_caffe() {
    local out=$1 work
    rm -rf "$CACHE_DIR"/build.*  # left by an interrupted earlier run
    work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
    tar xzf "$CACHE_DIR/sdist/$SDIST_NAME-$SDIST_VERSION.tar.gz" -C "$work" --strip-components=1
    bash "$SETUP_DIR/patch-caffe.sh" "$work"
    local flags=()
    mapfile -t flags < <(cmake_flags)
    cmake -S "$work" -B "$work/build" "${flags[@]}"
    cmake --build "$work/build" --target pycaffe -j "$JOBS"
    # The build symlinks _caffe.so into python/caffe and copies caffe_pb2.py into python/caffe/proto.
    local staged="$out.partial"
    rm -rf "$staged"
    mkdir -p "$staged"
    cp -r "$work/python/caffe" "$staged/caffe"
    rm -rf "$staged/caffe/test" "$staged/caffe/_caffe.cpp" "$staged/caffe/_caffe.so"
    find "$staged" -name __pycache__ -prune -exec rm -rf {} +
    cp "$work/build/lib/_caffe.so" "$staged/caffe/_caffe.so"
    cmake_flags >"$staged/caffe/BUILD_FLAGS"
    PYTHONPATH="$staged" "$VENV/bin/python" -c 'import caffe; print("built caffe", caffe.__version__)'
    mv "$staged" "$out"
    rm -rf "$work"
}

install_caffe() {
    local key out site
    key=$(cache_key)
    out="$CACHE_DIR/caffe-$SDIST_VERSION-$key"
    if [ -d "$out/caffe" ]; then
        echo "cache hit: $out"
    else
        echo "cache miss: building into $out"
        CAFFE_CACHE=miss
        fetch_sdist
        build_caffe "$out"
    fi
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -rf "$site/caffe.partial"
    cp -r "$out/caffe" "$site/caffe.partial"
    rm -rf "$site/caffe"
    mv "$site/caffe.partial" "$site/caffe"
    echo "installed $out/caffe -> $site/caffe"
}

verify() {
    cd /
    "$VENV/bin/python" - <<'EOF'
import caffe, caffe_fcn
need = {'Python', 'Crop', 'Deconvolution', 'Scale', 'Eltwise', 'SoftmaxWithLoss', 'Dropout'}
missing = need - set(caffe.layer_type_list())
assert not missing, 'Caffe lacks layers: %s' % sorted(missing)
print('caffe', caffe.__version__, 'from', caffe.__file__)
print('caffe_fcn from', caffe_fcn.__file__)
EOF
}

step apt install_apt
step venv make_venv
step caffe install_caffe
step verify verify
TOTAL=$(( $(date +%s) - START ))
printf '{"date": "%s", "total_s": %d, "caffe_cache": "%s", "jobs": %d, "steps": {%s}}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TOTAL" "$CAFFE_CACHE" "$JOBS" "$STEP_TIMES" >>"$LOG_DIR/setup-times.jsonl"
echo "setup: done in $TOTAL s (Caffe build cache $CAFFE_CACHE: $CACHE_DIR; venv: $VENV; logs and times: $LOG_DIR)"
