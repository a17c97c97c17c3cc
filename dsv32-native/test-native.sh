#!/usr/bin/env bash
# Builds the dsv32 C++ core with its tests (CMakeLists.txt, BUILD_TESTING=ON) in target/cmake-test and runs them with
# ctest: kernel-vs-scalar-reference tests on every kernel path the host supports, golden logits, bad checkpoints,
# sampling, the dsv32-logits CLI. Run by Maven in the test phase (skipped with -DskipTests); can be run by hand.
#
# Environment: DSV32_CMAKE_BUILD_TYPE (default Release), DSV32_BUILD_JOBS (default: number of cores).
set -euo pipefail

here="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
build="$here/target/cmake-test"
jobs="${DSV32_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

if [ -f "$build/CMakeCache.txt" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$here" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE="${DSV32_CMAKE_BUILD_TYPE:-Release}" -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" --parallel "$jobs"
ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
