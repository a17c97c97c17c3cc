# kernels.cmake: the GPU math kernels (gpu/gpu_kernels.h) for dsv32-native/CMakeLists.txt. Include it (from the
# top-level CMakeLists.txt, before or after option(BUILD_TESTING): undefined counts as ON, as that option's default)
# and, for the CUDA parts, after enable_language(CUDA) with the CUDA flags
# (-gencode=arch=compute_90a,code=sm_90a plus the compute_90 PTX). Never compile these sources with --use_fast_math:
# several kernels reproduce the CPU's IEEE roundings bit for bit.
#
# With CUDA enabled:
#  * appends the kernel sources to DSV32_GPU_SOURCES (the including file compiles that list into the core library,
#    so dsv32_static carries the launchers);
#  * BUILD_TESTING: test_gpu_kernels (each kernel vs the CPU scalar references; links dsv32_static) and its ctest
#    gpu.kernels, which exits 77 = skipped when no CUDA device is present.
# Always (CUDA or not), BUILD_TESTING: test_gpu_kernels_emu, the same test program and kernels compiled by the host
# C++ compiler against the CPU emulator (gpu/emulator.h), ctest gpu.kernels.emulated: the kernels' logic runs on
# machines without a GPU (it cannot see GPU-only faults: races between warps, launch limits, timing).
set(DSV32_GPU_KERNELS_DIR ${CMAKE_CURRENT_LIST_DIR})
set(DSV32_GPU_TEST_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../test/cpp/gpu)
get_property(_dsv32_langs GLOBAL PROPERTY ENABLED_LANGUAGES)
set(_dsv32_gpu_tests OFF)
if(NOT DEFINED BUILD_TESTING OR BUILD_TESTING)
  set(_dsv32_gpu_tests ON)
  enable_testing()
endif()

if("CUDA" IN_LIST _dsv32_langs)
  list(APPEND DSV32_GPU_SOURCES ${DSV32_GPU_KERNELS_DIR}/gpu_kernels.cu)
  if(_dsv32_gpu_tests)
    add_executable(test_gpu_kernels ${DSV32_GPU_TEST_DIR}/test_gpu_kernels.cu)
    target_include_directories(test_gpu_kernels PRIVATE ${DSV32_GPU_KERNELS_DIR}/.. ${DSV32_GPU_KERNELS_DIR}/../include)
    target_link_libraries(test_gpu_kernels PRIVATE dsv32_static)
    if(TARGET CUDA::cudart_static)
      target_link_libraries(test_gpu_kernels PRIVATE CUDA::cudart_static)
    endif()
    add_test(NAME gpu.kernels COMMAND test_gpu_kernels)
    set_tests_properties(gpu.kernels PROPERTIES SKIP_RETURN_CODE 77 LABELS gpu)
  endif()
endif()

if(_dsv32_gpu_tests)
  # The emulated launchers come first on the link line and define every dsv32::gpu symbol the test uses, so the
  # archive's CUDA-compiled copy (when there is one) is never pulled in.
  add_executable(test_gpu_kernels_emu ${DSV32_GPU_TEST_DIR}/emu_test_gpu_kernels.cpp ${DSV32_GPU_TEST_DIR}/emu_gpu_kernels.cpp)
  target_include_directories(test_gpu_kernels_emu PRIVATE ${DSV32_GPU_KERNELS_DIR}/.. ${DSV32_GPU_KERNELS_DIR}/../include ${DSV32_GPU_TEST_DIR})
  target_compile_definitions(test_gpu_kernels_emu PRIVATE DSV32_GPU_EMULATE=1)
  target_compile_options(test_gpu_kernels_emu PRIVATE -ffp-contract=off -Wno-unknown-pragmas)
  target_link_libraries(test_gpu_kernels_emu PRIVATE dsv32_static)
  add_test(NAME gpu.kernels.emulated COMMAND test_gpu_kernels_emu)
  set_tests_properties(gpu.kernels.emulated PROPERTIES LABELS gpu)
  # The same with 64-lane warps (AMD CDNA wavefronts, the HIP backend): the warp reductions, scans and ballots at
  # the width libdsv32_hip.so runs them.
  add_executable(test_gpu_kernels_emu64 ${DSV32_GPU_TEST_DIR}/emu_test_gpu_kernels.cpp ${DSV32_GPU_TEST_DIR}/emu_gpu_kernels.cpp)
  target_include_directories(test_gpu_kernels_emu64 PRIVATE ${DSV32_GPU_KERNELS_DIR}/.. ${DSV32_GPU_KERNELS_DIR}/../include ${DSV32_GPU_TEST_DIR})
  target_compile_definitions(test_gpu_kernels_emu64 PRIVATE DSV32_GPU_EMULATE=1 DSV32_EMU_WARP_SIZE=64)
  target_compile_options(test_gpu_kernels_emu64 PRIVATE -ffp-contract=off -Wno-unknown-pragmas)
  target_link_libraries(test_gpu_kernels_emu64 PRIVATE dsv32_static)
  add_test(NAME gpu.kernels.emulated.warp64 COMMAND test_gpu_kernels_emu64)
  set_tests_properties(gpu.kernels.emulated.warp64 PROPERTIES LABELS gpu)
endif()
