#!/usr/bin/env bash
# Adapt the brocolli-caffe CMake project to Debian 12 and to full-size FCN models.
set -euo pipefail
src=$1

# Its pycaffe target links -lboost_python; Debian ships one Boost.Python per Python: libboost_python311.
sed -i 's/-lboost_python /-lboost_python311 /' "$src/python/CMakeLists.txt"
grep -q -- '-lboost_python311 ' "$src/python/CMakeLists.txt"

# It caps binary protos at 512 MB, so VGG16 (553 MB) and FCN-VGG16 caffemodels (~540 MB) could
# not be loaded; upstream BVLC Caffe reads up to INT_MAX bytes (2 GB - 1). Restore that limit.
sed -i 's/SetTotalBytesLimit(536870912)/SetTotalBytesLimit(2147483647)/' "$src/src/caffe/util/io.cpp"
test "$(grep -c 'SetTotalBytesLimit(2147483647)' "$src/src/caffe/util/io.cpp")" -eq 2
