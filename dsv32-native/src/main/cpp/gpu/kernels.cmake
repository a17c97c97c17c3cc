# kernels.cmake: the GPU math kernels (gpu/gpu_kernels.h) for dsv32-native/CMakeLists.txt, included when CUDA is
# enabled (after enable_language(CUDA) and the CUDA flags: -gencode=arch=compute_90a,code=sm_90a plus the
# compute_90 PTX). Never add --use_fast_math for these sources: several kernels reproduce the CPU's IEEE roundings
# bit for bit (they use the __f*_rn intrinsics where it matters, but fast math would still change exp / div / sqrt).
#
#  * Appends the kernel sources to DSV32_GPU_SOURCES; the including file compiles that list into the core library
#    (so dsv32_static carries the launchers).
#  * BUILD_TESTING: test_gpu_kernels (each kernel vs the CPU scalar references; links dsv32_static) and its ctest
#    gpu.kernels, which exits 77 = skipped when no CUDA device is present.
list(APPEND DSV32_GPU_SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_kernels.cu)

if(BUILD_TESTING)
  add_executable(test_gpu_kernels ${CMAKE_CURRENT_LIST_DIR}/../../../test/cpp/gpu/test_gpu_kernels.cu)
  target_include_directories(test_gpu_kernels PRIVATE ${CMAKE_CURRENT_LIST_DIR}/.. ${CMAKE_CURRENT_LIST_DIR}/../include)
  target_link_libraries(test_gpu_kernels PRIVATE dsv32_static)
  if(TARGET CUDA::cudart_static)
    target_link_libraries(test_gpu_kernels PRIVATE CUDA::cudart_static)
  endif()
  add_test(NAME gpu.kernels COMMAND test_gpu_kernels)
  set_tests_properties(gpu.kernels PROPERTIES SKIP_RETURN_CODE 77)
endif()
