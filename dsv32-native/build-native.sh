#!/usr/bin/env bash
# Builds the dsv32 C++ core (CMakeLists.txt in this directory) with CMake and installs what the JNI glue needs into
# target/native: lib/libdsv32.so (or .a) and include/dsv32/dsv32.h. Run by the javacpp plugin in generate-resources
# (see pom.xml); can also be run by hand from anywhere.
#
# Environment: DSV32_NATIVE_SOURCE_DIR (CMake source dir; default: this directory), DSV32_CMAKE_BUILD_TYPE
# (default Release), DSV32_CMAKE_ARGS (extra cmake arguments), DSV32_BUILD_JOBS (default: number of cores), DSV32_CUDA
# (AUTO / ON / OFF; default: ON when nvcc is on the PATH, else OFF).
set -euo pipefail

here="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
src="${DSV32_NATIVE_SOURCE_DIR:-$here}"
build="$here/target/cmake-build"
prefix="$here/target/native"
jobs="${DSV32_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

for tool in cmake g++; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-native.sh: $tool not found (install it: apt-get install -y cmake g++)" >&2
        exit 1
    fi
done
if [ ! -f "$src/CMakeLists.txt" ]; then
    echo "build-native.sh: $src/CMakeLists.txt is missing: the native core is not there" >&2
    exit 1
fi

# The CUDA backend (src/main/cpp/gpu/) is built when nvcc is on the PATH (sm_90a + compute_90 PTX, cudart static),
# else skipped with a message; DSV32_CUDA=ON|OFF|AUTO overrides (ON fails without nvcc). The HIP backend library
# libdsv32_hip.so likewise when hipcc is found (DSV32_HIP=AUTO|ON|OFF, default AUTO).
cuda_mode="${DSV32_CUDA:-}"
if [ -z "$cuda_mode" ]; then
    if command -v nvcc >/dev/null 2>&1; then
        cuda_mode=ON
        echo "build-native.sh: nvcc found ($(command -v nvcc), $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/CUDA \1/p')): building the CUDA backend (sm_90a)"
    else
        cuda_mode=OFF
        echo "build-native.sh: nvcc not found: CUDA backend not built (put nvcc on the PATH to build it)"
    fi
fi

# A build directory configured for another source directory cannot be reused.
if [ -f "$build/CMakeCache.txt" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi

# shellcheck disable=SC2206 # word splitting of user-supplied arguments is intended
extra=(${DSV32_CMAKE_ARGS:-})
cmake -S "$src" -B "$build" \
    -DCMAKE_BUILD_TYPE="${DSV32_CMAKE_BUILD_TYPE:-Release}" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DBUILD_SHARED_LIBS=ON \
    -DBUILD_TESTING=OFF \
    -DDSV32_CUDA="$cuda_mode" \
    -DDSV32_HIP="${DSV32_HIP:-AUTO}" \
    "${extra[@]}"
cmake --build "$build" --parallel "$jobs" --target dsv32

# Install by hand (the core's CMakeLists need not have install rules): the library and the public header.
rm -rf "$prefix"
mkdir -p "$prefix/lib" "$prefix/include/dsv32"
# The shared library (and its version links) if there is one, else a static one (PIC, linked into the JNI library).
mapfile -d '' libs < <(find "$build" -maxdepth 3 -name 'libdsv32.so*' -print0)
[ "${#libs[@]}" -eq 0 ] && mapfile -d '' libs < <(find "$build" -maxdepth 3 -name 'libdsv32.a' -print0)
for lib in "${libs[@]}"; do cp -P "$lib" "$prefix/lib/"; done
# The HIP backend library (built when hipcc was found): shipped next to libdsv32.so, which dlopens it for backend=hip.
# It is a JavaCPP "preload" (Dsv32Native), so the jar carries it and extracts it beside libdsv32.so; loading it
# fails harmlessly where ROCm is not installed (backend=hip then reports why).
[ -f "$build/libdsv32_hip.so" ] && cp "$build/libdsv32_hip.so" "$prefix/lib/"
if [ "${#libs[@]}" -eq 0 ]; then
    echo "build-native.sh: the build produced no libdsv32.so or libdsv32.a under $build" >&2
    exit 1
fi
cp "$src/src/main/cpp/include/dsv32/dsv32.h" "$prefix/include/dsv32/"
echo "build-native.sh: installed $(cd "$prefix/lib" && echo *) into $prefix"
