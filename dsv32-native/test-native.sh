#!/usr/bin/env bash
# Builds the dsv32 C++ core with its tests (CMakeLists.txt, BUILD_TESTING=ON) in target/cmake-test and runs them with
# ctest: kernel-vs-scalar-reference tests on every kernel path the host supports, golden logits, bad checkpoints,
# sampling, the dsv32-logits CLI. Run by Maven in the test phase (skipped with -DskipTests); can be run by hand.
#
# Environment: DSV32_CMAKE_BUILD_TYPE (default Release), DSV32_BUILD_JOBS (default: number of cores), DSV32_CUDA
# (AUTO / ON / OFF; default: ON when nvcc is on the PATH, else OFF). Without a GPU the CUDA tests skip (exit 77).
set -euo pipefail

here="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
build="$here/target/cmake-test"
jobs="${DSV32_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# The CUDA backend (src/main/cpp/gpu/) is built when nvcc is on the PATH (sm_90a + compute_90 PTX, cudart static),
# else skipped with a message; DSV32_CUDA=ON|OFF|AUTO overrides (ON fails without nvcc).
cuda_mode="${DSV32_CUDA:-}"
if [ -z "$cuda_mode" ]; then
    if command -v nvcc >/dev/null 2>&1; then
        cuda_mode=ON
        echo "test-native.sh: nvcc found ($(command -v nvcc), $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/CUDA \1/p')): building the CUDA backend (sm_90a)"
    else
        cuda_mode=OFF
        echo "test-native.sh: nvcc not found: CUDA backend not built (put nvcc on the PATH to build it)"
    fi
fi

if [ -f "$build/CMakeCache.txt" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${DSV32_CMAKE_BUILD_TYPE:-Release}" -DBUILD_TESTING=ON -DDSV32_CUDA="$cuda_mode" >/dev/null
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
