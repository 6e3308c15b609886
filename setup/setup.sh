#!/usr/bin/env bash
# make setup: Debian packages, the project venv, and BVLC Caffe master (CPU, Python layer) built
# from Debian's source package (setup/caffe_source.py), cached outside the repo, installed into the venv.
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
CAFFE_VERSION=bvlc-99bd997

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

# The build flags; they are part of the cache key, so changing one rebuilds Caffe. OpenCV, LevelDB
# and LMDB are off: FCN reads its data through Python layers. -DBUILD_SHARED_LIBS=OFF links libcaffe
# into _caffe.so, so the installed extension needs nothing from the build folder.
cmake_flags() {
    local pyinc pylib
    pyinc=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
    pylib=$("$VENV/bin/python" -c "import os, sysconfig as s; print(os.path.join(s.get_config_var('LIBDIR'), s.get_config_var('LDLIBRARY')))")
    cat <<EOF
-DCMAKE_BUILD_TYPE=Release
-DCPU_ONLY=ON
-DBLAS=Open
-DUSE_OPENCV=OFF
-DUSE_LEVELDB=OFF
-DUSE_LMDB=OFF
-DUSE_HDF5=ON
-DBUILD_python=ON
-DBUILD_python_layer=ON
-Dpython_version=3.11
-DBUILD_SHARED_LIBS=OFF
-DBUILD_docs=OFF
-DPYTHON_EXECUTABLE=$VENV/bin/python
-DPYTHON_INCLUDE_DIR=$pyinc
-DPYTHON_LIBRARY=$pylib
EOF
}

# The build does not depend on where the venv lives (only on the Python and numpy versions, which
# are part of the key), so its path is left out: every clone of the repo shares one cached build.
cache_key() {
    {
        "$VENV/bin/python" "$SETUP_DIR/caffe_source.py" --describe
        cmake_flags | sed "s#$VENV#<venv>#g"
        cat "$SETUP_DIR"/caffe-patches/*.patch
        "$VENV/bin/python" -c 'import sys, numpy; print(sys.version, numpy.__version__)'
        dpkg-query -W -f='${Package} ${Version}\n' libboost-python-dev libprotobuf-dev libhdf5-dev \
            libopenblas-dev libgoogle-glog-dev 2>/dev/null
    } | sha256sum | cut -c1-16
}

# Unpack the verified source into $1 and apply our patches (setup/caffe-patches/, each says why).
prepare_source() {
    local tree=$1 tarball patch
    tarball=$("$VENV/bin/python" "$SETUP_DIR/caffe_source.py" "$CACHE_DIR/source")
    mkdir -p "$tree"
    tar xzf "$tarball" -C "$tree"
    for patch in "$SETUP_DIR"/caffe-patches/*.patch; do
        echo "patch: $(basename "$patch")"
        patch -d "$tree" -p1 --forward --quiet <"$patch"
    done
}

# A cache entry holds caffe/ (the package installed into the venv) and src/ (the patched source with
# its CMake build folder, which `make caffe-test` reuses to build Caffe's own C++ tests: CMake's build
# folder records its absolute path, so it is built in place). The entry counts as built only once
# COMPLETE is written, after the package imports; an entry without it is an interrupted build.
build_caffe() {
    local out=$1 flags=()
    rm -rf "$out"
    mkdir -p "$out"
    prepare_source "$out/src"
    mapfile -t flags < <(cmake_flags)
    printf 'cmake flags:\n'; printf '  %s\n' "${flags[@]}"
    cmake -S "$out/src" -B "$out/src/build" "${flags[@]}"
    cmake --build "$out/src/build" --target pycaffe -j "$JOBS"
    # The build copies caffe_pb2.py into python/caffe/proto and links _caffe.so there.
    local staged="$out/caffe.partial"
    mkdir -p "$staged"
    cp -r "$out/src/python/caffe/." "$staged/"
    rm -rf "$staged/test" "$staged/_caffe.cpp" "$staged/_caffe.so"
    find "$staged" -name __pycache__ -prune -exec rm -rf {} +
    cp "$out/src/build/lib/_caffe.so" "$staged/_caffe.so"
    { "$VENV/bin/python" "$SETUP_DIR/caffe_source.py" --describe
      echo "patches: $(cd "$SETUP_DIR/caffe-patches" && echo *.patch)"
      cmake_flags | sed "s#$VENV#<venv>#g"; } >"$staged/BUILD_FLAGS"
    mv "$staged" "$out/caffe"
    PYTHONPATH="$out" "$VENV/bin/python" -c 'import caffe; print("built caffe", caffe.__version__)'
    touch "$out/COMPLETE"
}

install_caffe() {
    local key out site
    key=$(cache_key)
    out="$CACHE_DIR/caffe-$CAFFE_VERSION-$key"
    if [ -f "$out/COMPLETE" ]; then
        echo "cache hit: $out"
    else
        echo "cache miss: building into $out"
        CAFFE_CACHE=miss
        build_caffe "$out"
    fi
    site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    rm -rf "$site/caffe.partial"
    cp -r "$out/caffe" "$site/caffe.partial"
    echo "$out" >"$site/caffe.partial/CACHE_ENTRY"
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
