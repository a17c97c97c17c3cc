#!/usr/bin/env bash
# gpu-check.sh: the CUDA backend's device check, for a GPU machine with nvcc and the NVIDIA driver but no JDK or
# Maven (architecture of the backend: src/main/cpp/model/backend.h, src/main/cpp/gpu/). Configures and builds this
# directory's standalone CMake project with DSV32_CUDA=ON (sm_90a + compute_90 PTX) on all cores, runs the GPU ctests
# (label gpu: the shared kernels and the engine's kernels against the CPU references, the golden tiny / tiny_mp2 cases
# through the CUDA engine at mp=1: prefill, chunked prefill, decode-from, batches, 16-position blocks, fp8 numerics,
# the host-side logic; the same engine on the CPU emulator, the *.emulated tests), and prints a short summary: GPU, driver, CUDA version, each test passed / failed / skipped,
# the golden metrics (top-1, KL, max |d|). Then the device benchmark (dsv32_gpu_bench --quick, src/main/cpp/gpu/bench/:
# copy bandwidth, FP8 GEMMs of the real layer shapes, indexer / sparse decode, a full-dims layer step, each against
# the FP8 peak and the measured bandwidth, the issue #8 targets met or not): its table is appended to the summary and
# its rows written as JSON and Markdown next to it (gpu-bench.json, gpu-bench.md). The summary is also written to a file.
#
#   dsv32-native/gpu-check.sh [--dry-run] [--no-bench] [SUMMARY_FILE]
#
# SUMMARY_FILE defaults to $OUT/gpu-check-summary.txt when $OUT is set, else target/gpu-check/summary.txt; the full
# ctest log goes next to it (gpu-check.log). --dry-run: the same on a machine without a GPU, up to the device
# boundary: the build and the tests, which skip (exit 77) where they need a device; skips are then expected (the
# benchmark too). --no-bench: the tests only.
# Exit status: 0 all passed (dry run: nothing failed), 1 a test failed or (not a dry run) was skipped, or the benchmark
# failed or timed out on a device run (targets not met do not fail), 2 bad usage or a missing tool. Environment:
# DSV32_BUILD_JOBS (default: all cores), CMAKE_CUDA_COMPILER (default: nvcc on the PATH, else /usr/local/cuda/bin/nvcc),
# DSV32_BENCH_TIMEOUT (seconds, default 300), DSV32_BENCH_ARGS (default --quick; e.g. "--only gemm,layer").
set -euo pipefail

here="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
dry=0
bench=1
summary=""
for a in "$@"; do
    case "$a" in
        --dry-run) dry=1 ;;
        --no-bench) bench=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        -*) echo "gpu-check.sh: unknown option $a (usage: gpu-check.sh [--dry-run] [--no-bench] [SUMMARY_FILE])" >&2; exit 2 ;;
        *) summary="$a" ;;
    esac
done
build="$here/target/gpu-check"
if [ -z "$summary" ]; then
    if [ -n "${OUT:-}" ]; then summary="$OUT/gpu-check-summary.txt"; else summary="$build/summary.txt"; fi
fi
mkdir -p "$(dirname -- "$summary")" "$build"
log="$(dirname -- "$summary")/gpu-check.log"
jobs="${DSV32_BUILD_JOBS:-$(nproc 2>/dev/null || echo 4)}"

for tool in cmake ctest g++; do
    command -v "$tool" >/dev/null 2>&1 || { echo "gpu-check.sh: $tool not found" >&2; exit 2; }
done
nvcc="${CMAKE_CUDA_COMPILER:-$(command -v nvcc || true)}"
[ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
[ -n "$nvcc" ] || { echo "gpu-check.sh: nvcc not found (put it on the PATH or set CMAKE_CUDA_COMPILER)" >&2; exit 2; }

t0=$(date +%s)
{
    echo "dsv32 CUDA backend check ($( [ $dry -eq 1 ] && echo "DRY RUN, no device expected" || echo "device run")), $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "host:   $(uname -n), $(nproc) cores"
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
        nvidia-smi --query-gpu=index,name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null |
            sed 's/^/gpu:    /'
    else
        echo "gpu:    none (nvidia-smi $(command -v nvidia-smi >/dev/null 2>&1 && echo "failed" || echo "not found"))"
    fi
    echo "cuda:   $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\), \(V[0-9.]*\).*/nvcc \1 (\2)/p') at $nvcc"
    echo "commit: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} | tee "$summary"

# Build: the libraries and the test programs the GPU tests run (not the CPU benchmarks).
echo "gpu-check.sh: configuring and building in $build ($jobs jobs)" >&2
if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON -DDSV32_CUDA=ON -DDSV32_HIP=OFF \
        -DCMAKE_CUDA_COMPILER="$nvcc" >"$log" 2>&1; then
    tail -30 "$log" >&2
    echo "build:  FAILED (cmake configure; see $log)" | tee -a "$summary"
    exit 1
fi
# Test programs of the gpu label: on the device, and on the CPU emulator (the *_emu ones: if a case fails on the
# device but passes emulated, the fault is GPU-only: a race, a launch limit).
targets=(test_golden test_gpu_engine test_golden_emu test_gpu_engine_emu)
grep -q 'add_executable(test_gpu_kernels ' "$here/src/main/cpp/gpu/kernels.cmake" 2>/dev/null && targets+=(test_gpu_kernels)
grep -q 'add_executable(test_gpu_kernels_emu ' "$here/src/main/cpp/gpu/kernels.cmake" 2>/dev/null && targets+=(test_gpu_kernels_emu)
grep -q 'add_executable(test_gpu_kernels_emu64 ' "$here/src/main/cpp/gpu/kernels.cmake" 2>/dev/null && targets+=(test_gpu_kernels_emu64)
# backend=hip's errors without an AMD GPU (label gpu too; the HIP library itself is not built here: DSV32_HIP=OFF).
grep -q 'add_executable(test_hip_backend ' "$here/CMakeLists.txt" 2>/dev/null && targets+=(test_hip_backend)
# The HIP library's C interface and the HIP engine end to end on the CPU emulator (label gpu; no hipcc needed).
grep -q 'add_library(dsv32_hip_emu ' "$here/CMakeLists.txt" 2>/dev/null &&
    targets+=(test_hip_abi dsv32_hip_emu test_golden_hipemu test_hip_backend_hipemu)
# The device benchmark and its tests (gpu/bench/bench.cmake).
bench_cmake="$here/src/main/cpp/gpu/bench/bench.cmake"
if grep -q 'add_executable(dsv32_gpu_bench ' "$bench_cmake" 2>/dev/null; then
    targets+=(dsv32_gpu_bench dsv32_gpu_bench_emu test_gpu_bench)
else
    bench=0
fi
if ! cmake --build "$build" --parallel "$jobs" --target "${targets[@]}" >>"$log" 2>&1; then
    grep -E 'error|Error' "$log" | head -20 >&2
    echo "build:  FAILED (see $log)" | tee -a "$summary"
    exit 1
fi
echo "build:  ok in $(( $(date +%s) - t0 )) s (${targets[*]})" | tee -a "$summary"

# The GPU tests, verbose (the golden lines carry the metrics), one at a time on the one GPU.
t1=$(date +%s)
set +e
ctest --test-dir "$build" -L gpu -V --timeout 600 >>"$log" 2>&1
rc=$?
set -e
echo "tests:  ctest exit $rc in $(( $(date +%s) - t1 )) s" | tee -a "$summary"
while IFS= read -r line; do
    name=$(sed -n 's/.*Test *#[0-9]*: \([^ ]*\) .*/\1/p' <<<"$line")
    [ -n "$name" ] || continue
    case "$line" in
        *Passed*) st=PASS ;;
        *Skipped*|*"Not Run"*) st=SKIP ;;
        *) st=FAIL ;;
    esac
    printf '  %-4s %s\n' "$st" "$name"
done < <(grep -E 'Test +#[0-9]+: ' "$log") | tee -a "$summary"
pass=$(grep -cE 'Test +#[0-9]+: .* Passed' "$log" || true)
skip=$(grep -cE 'Test +#[0-9]+: .*(Skipped|Not Run)' "$log" || true)
fail=$( (grep -E 'Test +#[0-9]+: ' "$log" || true) | (grep -cEv 'Passed|Skipped|Not Run' || true) )
{
    echo "golden metrics (CUDA engine vs the f32 references; pass: top-1 >= 99%, mean KL <= 1e-3; emulated runs included):"
    grep -E '^[0-9]+: .*top1 .*mean KL' "$log" | sed 's/^[0-9]*: /  /' || echo "  (none: the golden cases did not run)"
    echo "skip reasons:"
    grep -E 'skipped: ' "$log" | sed 's/^[0-9]*: /  /' | sort | uniq -c | head -5 || echo "  (none)"
    echo "result: $pass passed, $fail failed, $skip skipped; total $(( $(date +%s) - t0 )) s"
} | tee -a "$summary"
# The device benchmark, after the tests (bounded: DSV32_BENCH_TIMEOUT), its table into the summary.
bench_rc=0
if [ $bench -eq 1 ]; then
    bench_dir="$(dirname -- "$summary")"
    bench_json="$bench_dir/gpu-bench.json"
    bench_txt="$bench_dir/gpu-bench.txt"
    bench_err="$bench_dir/gpu-bench.err"
    bench_timeout="${DSV32_BENCH_TIMEOUT:-300}"
    read -r -a bench_args <<<"${DSV32_BENCH_ARGS:---quick}"
    t2=$(date +%s)
    set +e
    timeout "$bench_timeout" "$build/dsv32_gpu_bench" "${bench_args[@]}" --out "$bench_json" >"$bench_txt" 2>"$bench_err"
    bench_rc=$?
    set -e
    secs=$(( $(date +%s) - t2 ))
    cat "$bench_err" >>"$log"
    {
        case $bench_rc in
            0) echo "bench:  dsv32_gpu_bench ${bench_args[*]}: ok in $secs s (rows: $bench_json, as Markdown: ${bench_json%.json}.md)" ;;
            77) echo "bench:  skipped: $(tail -1 "$bench_err")" ;;
            124) echo "bench:  dsv32_gpu_bench: TIMED OUT after $bench_timeout s; the rows measured before:"
                 sed -n 's/^dsv32_gpu_bench: row /  /p' "$bench_err" ;;
            *) echo "bench:  dsv32_gpu_bench: FAILED, exit $bench_rc in $secs s: $(tail -1 "$bench_err")" ;;
        esac
        if [ -s "$bench_txt" ]; then sed 's/^/  /' "$bench_txt"; fi
    } | tee -a "$summary"
fi
echo "gpu-check.sh: summary in $summary, full log in $log" >&2
if [ "$fail" -gt 0 ] || [ "$pass$skip" = "00" ]; then exit 1; fi
if [ $dry -eq 0 ] && [ "$skip" -gt 0 ]; then
    echo "gpu-check.sh: $skip GPU tests were skipped on a device run (no usable device?)" >&2
    exit 1
fi
if [ $dry -eq 0 ] && [ $bench_rc -ne 0 ]; then
    echo "gpu-check.sh: the device benchmark did not complete (exit $bench_rc)" >&2
    exit 1
fi
exit 0
