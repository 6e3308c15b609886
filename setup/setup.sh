#!/usr/bin/env bash
# make setup: Debian packages, the project venv, and BVLC Caffe master (Python layer) built from
# Debian's source package (setup/caffe_source.py), cached outside the repo, installed into the venv.
# CPU-only, or with CUDA 13 and NCCL (toolkit from NVIDIA's wheels) as setup/cuda_target.py decides:
#   CUDA=auto (default: CUDA when nvidia-smi lists a usable GPU), CUDA=1 [CUDA_ARCHS="75 86 90"], CUDA=0.
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
CUDA_VERSION=13.0
# The toolkit's cache folder is named by the hash of the pinned wheels, so it is known before it exists.
CUDA_ROOT="$CACHE_DIR/cuda-$CUDA_VERSION-$(cat "$SETUP_DIR"/cuda-build-requirements.txt \
    "$SETUP_DIR"/cuda-runtime-requirements.txt | sha256sum | cut -c1-16)"
CUDA_HOME="$CUDA_ROOT/nvidia/cu13"
NCCL_HOME="$CUDA_ROOT/nvidia/nccl"
# Where the CUDA build's _caffe.so (site-packages/caffe/) finds the runtime wheels' libraries in the venv.
CUDA_RUNPATH='$ORIGIN/../nvidia/cu13/lib:$ORIGIN/../nvidia/nccl/lib'
# "cpu", or "cuda" and the GPU architectures to build for (e.g. "cuda 86 90"); stops on a bad CUDA/CUDA_ARCHS.
TARGET=$("$PYTHON" "$SETUP_DIR/cuda_target.py" "${CUDA:-auto}" "${CUDA_ARCHS:-}")
read -r BUILD ARCHS <<<"$TARGET"
PTX_ARCH=${ARCHS##* }   # PTX for the newest architecture, which newer GPUs compile when they load it

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

# The CUDA toolkit from NVIDIA's hash-pinned wheels: nvcc and the rest of the compiler
# (cuda-build-requirements.txt) and the runtime libraries with their headers (cuda-runtime-requirements.txt),
# installed side by side into $CUDA_ROOT in the build cache. The wheels stay in $CACHE_DIR/wheels, from
# which the runtime ones go into the venv. CMake's FindCUDA looks for unversioned libraries
# (libcudart.so), which the wheels do not ship: lib64/ holds links to them.
fetch_cuda_wheels() {
    "$VENV/bin/python" -m pip download --disable-pip-version-check -q --no-deps --require-hashes \
        --only-binary=:all: -d "$CACHE_DIR/wheels" "$@"
}

install_cuda_toolkit() {
    local reqs=(-r "$SETUP_DIR/cuda-build-requirements.txt" -r "$SETUP_DIR/cuda-runtime-requirements.txt")
    if [ -f "$CUDA_ROOT/COMPLETE" ]; then
        echo "cache hit: $CUDA_ROOT"
    else
        echo "cache miss: installing the CUDA $CUDA_VERSION toolkit into $CUDA_ROOT"
        fetch_cuda_wheels "${reqs[@]}"
        local staged="$CUDA_ROOT.partial" lib
        rm -rf "$staged"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --require-hashes \
            --no-index --find-links "$CACHE_DIR/wheels" --target "$staged" "${reqs[@]}"
        mkdir -p "$staged/nvidia/cu13/lib64"
        for lib in "$staged"/nvidia/cu13/lib/lib*.so.*; do
            lib=$(basename "$lib")
            ln -s "../lib/$lib" "$staged/nvidia/cu13/lib64/${lib%.so.*}.so"
        done
        ln -s libnccl.so.2 "$staged/nvidia/nccl/lib/libnccl.so"
        rm -rf "$CUDA_ROOT"
        mv "$staged" "$CUDA_ROOT"
        touch "$CUDA_ROOT/COMPLETE"
    fi
    "$CUDA_HOME/bin/nvcc" --version | tail -n 2
    # Every requested architecture must be one this nvcc compiles for.
    local arch known
    known=$("$CUDA_HOME/bin/nvcc" --list-gpu-code)
    for arch in $ARCHS; do
        if ! grep -qx "sm_$arch" <<<"$known"; then
            echo "CUDA_ARCHS: nvcc $CUDA_VERSION cannot build for sm_$arch; it builds for: $(echo $known)"
            return 1
        fi
    done
}

# The build flags; they are part of the cache key, so changing one rebuilds Caffe. OpenCV, LevelDB
# and LMDB are off: FCN reads its data through Python layers. -DBUILD_SHARED_LIBS=OFF links libcaffe
# into _caffe.so, so the installed extension needs nothing from the build folder. The CUDA build
# names its architectures (Caffe's own list stops at sm_61) and uses NCCL; cuDNN stays off (README).
cmake_flags() {
    local pyinc pylib
    pyinc=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
    pylib=$("$VENV/bin/python" -c "import os, sysconfig as s; print(os.path.join(s.get_config_var('LIBDIR'), s.get_config_var('LDLIBRARY')))")
    echo "-DCMAKE_BUILD_TYPE=Release"
    if [ "$BUILD" = cuda ]; then
        cat <<EOF
-DCPU_ONLY=OFF
-DUSE_CUDNN=OFF
-DCUDA_TOOLKIT_ROOT_DIR=$CUDA_HOME
-DCUDA_ARCH_NAME=Manual
-DCUDA_ARCH_BIN=$ARCHS
-DCUDA_ARCH_PTX=$PTX_ARCH
-DUSE_NCCL=ON
-DNCCL_INCLUDE_DIR=$NCCL_HOME/include
-DNCCL_LIBRARIES=$NCCL_HOME/lib/libnccl.so
EOF
    else
        echo "-DCPU_ONLY=ON"
    fi
    cat <<EOF
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

# The flags without this venv's and this cache's paths (as the key and BUILD_FLAGS hold them).
portable_flags() {
    cmake_flags | sed -e "s#$VENV#<venv>#g" -e "s#$CACHE_DIR#<cache>#g"
}

# The build does not depend on where the venv lives (only on the Python and numpy versions, which
# are part of the key), so its path is left out: every clone of the repo shares one cached build.
# The CUDA build adds its patches and the pinned wheels; the CPU build's key is what it always was.
cache_key() {
    {
        "$VENV/bin/python" "$SETUP_DIR/caffe_source.py" --describe
        portable_flags
        cat "$SETUP_DIR"/caffe-patches/*.patch
        if [ "$BUILD" = cuda ]; then
            cat "$SETUP_DIR"/caffe-patches/cuda/*.patch "$SETUP_DIR"/cuda-*-requirements.txt
        fi
        "$VENV/bin/python" -c 'import sys, numpy; print(sys.version, numpy.__version__)'
        dpkg-query -W -f='${Package} ${Version}\n' libboost-python-dev libprotobuf-dev libhdf5-dev \
            libopenblas-dev libgoogle-glog-dev 2>/dev/null
    } | sha256sum | cut -c1-16
}

# Our patches (setup/caffe-patches/, each says why), and for the CUDA build those in caffe-patches/cuda/.
patches() {
    ls "$SETUP_DIR"/caffe-patches/*.patch
    if [ "$BUILD" = cuda ]; then ls "$SETUP_DIR"/caffe-patches/cuda/*.patch; fi
}

# Unpack the verified source into $1 and apply our patches.
prepare_source() {
    local tree=$1 tarball patch list
    tarball=$("$VENV/bin/python" "$SETUP_DIR/caffe_source.py" "$CACHE_DIR/source")
    mkdir -p "$tree"
    tar xzf "$tarball" -C "$tree"
    mapfile -t list < <(patches)
    for patch in "${list[@]}"; do
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
    local libs=""
    if [ "$BUILD" = cuda ]; then
        # The build folder's copy keeps CMake's absolute paths into the cache (for make caffe-test);
        # the installed one finds the CUDA libraries beside itself, in the venv's site-packages.
        patchelf --set-rpath "$CUDA_RUNPATH" "$staged/_caffe.so"
        libs="$CUDA_HOME/lib:$NCCL_HOME/lib"
    fi
    { "$VENV/bin/python" "$SETUP_DIR/caffe_source.py" --describe
      echo "patches: $(patches | sed "s#^$SETUP_DIR/caffe-patches/##" | xargs)"
      portable_flags; } >"$staged/BUILD_FLAGS"
    mv "$staged" "$out/caffe"
    LD_LIBRARY_PATH="$libs" PYTHONPATH="$out" "$VENV/bin/python" -c 'import caffe; print("built caffe", caffe.__version__)'
    touch "$out/COMPLETE"
}

install_caffe() {
    local key out site
    key=$(cache_key)
    if [ "$BUILD" = cuda ]; then
        out="$CACHE_DIR/caffe-$CAFFE_VERSION-cuda$CUDA_VERSION-sm$(tr ' ' _ <<<"$ARCHS")-$key"
    else
        out="$CACHE_DIR/caffe-$CAFFE_VERSION-$key"
    fi
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
    if [ "$BUILD" = cuda ]; then
        local reqs=(-r "$SETUP_DIR/cuda-runtime-requirements.txt")
        fetch_cuda_wheels "${reqs[@]}"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --require-hashes \
            --no-index --find-links "$CACHE_DIR/wheels" "${reqs[@]}"
        echo "installed the CUDA runtime libraries into $site/nvidia"
    fi
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

echo "setup: $(if [ "$BUILD" = cuda ]; then echo "Caffe with CUDA $CUDA_VERSION for sm_${ARCHS// /, sm_}"; else echo "Caffe CPU-only"; fi)"
step apt install_apt
step venv make_venv
if [ "$BUILD" = cuda ]; then step cuda install_cuda_toolkit; fi
step caffe install_caffe
step verify verify
TOTAL=$(( $(date +%s) - START ))
printf '{"date": "%s", "total_s": %d, "caffe_cache": "%s", "build": "%s", "jobs": %d, "steps": {%s}}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TOTAL" "$CAFFE_CACHE" "$TARGET" "$JOBS" "$STEP_TIMES" >>"$LOG_DIR/setup-times.jsonl"
echo "setup: done in $TOTAL s (Caffe build cache $CAFFE_CACHE: $CACHE_DIR; venv: $VENV; logs and times: $LOG_DIR)"
