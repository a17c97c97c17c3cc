# bench.cmake: the device benchmark dsv32_gpu_bench (issue #8; gpu/bench/) for dsv32-native/CMakeLists.txt, included
# after the core library targets (dsv32_static) and the test setup. Host C++ plus one CUDA file of its own kernels;
# the rest are the library's launchers (gpu_kernels.h, engine_kernels.h). No JDK.
#  * CUDA builds: dsv32_gpu_bench (sm_90a, like the library); BUILD_TESTING: ctests gpu.bench.tiny (the tiny scale
#    end to end on the device, skipped with exit 77 without one) and gpu.bench.no_device (with no visible device the
#    program says "no CUDA device" and exits 77).
#  * Always, BUILD_TESTING: dsv32_gpu_bench_emu, the same sources on the CPU emulator (gpu/emulator.h), and its
#    ctests gpu.bench.tiny.emulated (every row produced, numbers finite and positive, the JSON parses, the FLOP /
#    byte accounting), gpu.bench.usage (bad arguments: exit 2) and gpu.bench.plan (the full plan's 671B shapes).
set(DSV32_BENCH_DIR ${CMAKE_CURRENT_LIST_DIR})
set(DSV32_BENCH_HOST_SOURCES
  ${DSV32_BENCH_DIR}/bench_main.cpp
  ${DSV32_BENCH_DIR}/bench_plan.cpp
  ${DSV32_BENCH_DIR}/bench_report.cpp
  ${DSV32_BENCH_DIR}/bench_device.cpp
  ${DSV32_BENCH_DIR}/bench_cache.cpp
  ${DSV32_BENCH_DIR}/bench_peak.cpp
  ${DSV32_BENCH_DIR}/bench_gemm.cpp
  ${DSV32_BENCH_DIR}/bench_attention.cpp
  ${DSV32_BENCH_DIR}/bench_layer.cpp)
set(DSV32_BENCH_TEST_DIR ${DSV32_BENCH_DIR}/../../../../test/cpp)

if(DSV32_HAVE_CUDA)
  add_executable(dsv32_gpu_bench ${DSV32_BENCH_HOST_SOURCES} ${DSV32_BENCH_DIR}/bench_kernels.cu)
  target_link_libraries(dsv32_gpu_bench PRIVATE dsv32_static)
endif()

if(NOT DEFINED BUILD_TESTING OR BUILD_TESTING)
  add_executable(dsv32_gpu_bench_emu ${DSV32_BENCH_HOST_SOURCES}
    ${DSV32_BENCH_TEST_DIR}/gpu/emu_bench_kernels.cpp
    ${DSV32_BENCH_TEST_DIR}/gpu/emu_gpu_kernels.cpp
    ${DSV32_BENCH_TEST_DIR}/emu_engine_kernels.cpp
    ${DSV32_BENCH_DIR}/../device.cpp)
  target_compile_definitions(dsv32_gpu_bench_emu PRIVATE DSV32_GPU_EMULATE=1 DSV32_HAVE_CUDA=1)
  target_compile_options(dsv32_gpu_bench_emu PRIVATE -Wno-unknown-pragmas)
  target_include_directories(dsv32_gpu_bench_emu PRIVATE ${DSV32_BENCH_TEST_DIR} ${DSV32_BENCH_TEST_DIR}/gpu)
  target_link_libraries(dsv32_gpu_bench_emu PRIVATE dsv32_static)

  add_executable(test_gpu_bench ${DSV32_BENCH_TEST_DIR}/test_gpu_bench.cpp ${DSV32_BENCH_DIR}/bench_plan.cpp)
  target_link_libraries(test_gpu_bench PRIVATE dsv32_static)
  add_test(NAME gpu.bench.tiny.emulated COMMAND test_gpu_bench run $<TARGET_FILE:dsv32_gpu_bench_emu>
           ${CMAKE_CURRENT_BINARY_DIR}/gpu_bench_emu)
  add_test(NAME gpu.bench.usage COMMAND test_gpu_bench usage $<TARGET_FILE:dsv32_gpu_bench_emu>)
  add_test(NAME gpu.bench.plan COMMAND test_gpu_bench plan)
  set_tests_properties(gpu.bench.tiny.emulated gpu.bench.usage gpu.bench.plan PROPERTIES LABELS gpu)
  if(DSV32_HAVE_CUDA)
    add_test(NAME gpu.bench.tiny COMMAND test_gpu_bench run $<TARGET_FILE:dsv32_gpu_bench> ${CMAKE_CURRENT_BINARY_DIR}/gpu_bench)
    add_test(NAME gpu.bench.no_device COMMAND test_gpu_bench nodevice $<TARGET_FILE:dsv32_gpu_bench>)
    set_tests_properties(gpu.bench.tiny gpu.bench.no_device PROPERTIES LABELS gpu SKIP_RETURN_CODE 77)
  endif()
endif()
