#!/usr/bin/env bash
# Adapt the brocolli-caffe CMake project to Debian 12: its pycaffe target links
# -lboost_python, which Debian ships as libboost_python311 (one library per Python).
set -euo pipefail
src=$1
sed -i 's/-lboost_python /-lboost_python311 /' "$src/python/CMakeLists.txt"
grep -q -- '-lboost_python311 ' "$src/python/CMakeLists.txt"
