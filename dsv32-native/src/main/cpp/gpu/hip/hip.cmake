# hip.cmake: libdsv32_hip.so (and, with BUILD_TESTING, test_gpu_kernels_hip) compiled by hipcc through custom
# commands: CMake 3.25's HIP language wants a full ROCm install (amdclang++, hip-lang-config.cmake) that Debian's
# hipcc 5.2 package does not provide. Included by dsv32-native/CMakeLists.txt when hipcc was found (DSV32_HIPCC).
# Inputs: SRC (the C++ source root, relative), DSV32_HIP_TARGETS, DSV32_HIPCC, DSV32_GPU_HOST_SOURCES and
# DSV32_HIP_CORE_SOURCES (relative to SRC). Output: target dsv32_hip.
set(_hip_root ${CMAKE_CURRENT_SOURCE_DIR}/${SRC})
set(_hip_env ${CMAKE_COMMAND} -E env HIP_PLATFORM=amd)

# Which of the wanted targets this hipcc accepts (a one-line probe per target, at configure time).
set(_hip_probe ${CMAKE_CURRENT_BINARY_DIR}/hip_probe.hip)
file(WRITE ${_hip_probe} "#include <hip/hip_runtime.h>\n__global__ void dsv32_probe(int* p) { *p = 1; }\n")
set(_hip_ok)
set(_hip_rejected)
foreach(arch IN LISTS DSV32_HIP_TARGETS)
  execute_process(COMMAND ${_hip_env} ${DSV32_HIPCC} -x hip --offload-arch=${arch} -c ${_hip_probe}
                          -o ${CMAKE_CURRENT_BINARY_DIR}/hip_probe_${arch}.o
                  RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(_rc EQUAL 0)
    list(APPEND _hip_ok ${arch})
  else()
    list(APPEND _hip_rejected ${arch})
  endif()
endforeach()
execute_process(COMMAND ${_hip_env} ${DSV32_HIPCC} --version OUTPUT_VARIABLE _hip_version ERROR_QUIET)
string(REGEX MATCH "HIP version: [0-9.]+" _hip_version "${_hip_version}")
if(NOT _hip_ok)
  execute_process(COMMAND ${_hip_env} ${DSV32_HIPCC} -x hip --offload-arch=gfx90a -c ${_hip_probe}
                          -o ${CMAKE_CURRENT_BINARY_DIR}/hip_probe_gfx90a.o
                  RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_VARIABLE _hip_err)
  if(NOT _rc EQUAL 0)
    if(DSV32_HIP_MODE STREQUAL "ON")
      message(FATAL_ERROR "DSV32_HIP=ON but ${DSV32_HIPCC} compiles HIP for none of ${DSV32_HIP_TARGETS} nor gfx90a: ${_hip_err}")
    endif()
    message(WARNING "dsv32: ${DSV32_HIPCC} compiles HIP for none of ${DSV32_HIP_TARGETS} nor gfx90a: HIP backend not built (${_hip_err})")
    set(DSV32_HAVE_HIP OFF)
    return()
  endif()
  set(_hip_ok gfx90a)
  message(STATUS "dsv32: HIP backend ON (${DSV32_HIPCC}, ${_hip_version}): this hipcc rejects ${_hip_rejected}; "
                 "compiled for gfx90a (MI200, 64-lane wavefronts) instead. gfx942 (MI300) needs ROCm 6, gfx950 "
                 "(MI350) ROCm 7: build there for those GPUs.")
elseif(_hip_rejected)
  message(STATUS "dsv32: HIP backend ON (${DSV32_HIPCC}, ${_hip_version}): targets ${_hip_ok}; rejected by this hipcc: "
                 "${_hip_rejected} (gfx942 needs ROCm 6, gfx950 ROCm 7)")
else()
  message(STATUS "dsv32: HIP backend ON (${DSV32_HIPCC}, ${_hip_version}): targets ${_hip_ok}")
endif()
set(DSV32_HIP_COMPILED_TARGETS ${_hip_ok} CACHE INTERNAL "the targets libdsv32_hip.so was compiled for")
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/hip_targets.txt "${_hip_ok}\n")  # for CI's log line

set(_hip_flags -std=c++17 -O3 -fPIC -fno-fast-math -ffp-contract=off -I${_hip_root} -I${_hip_root}/include)
foreach(arch IN LISTS _hip_ok)
  list(APPEND _hip_flags --offload-arch=${arch})
endforeach()
# Every header of the GPU sources: a change to any of them recompiles the HIP objects.
file(GLOB _hip_headers ${_hip_root}/gpu/*.h ${_hip_root}/gpu/hip/*.h ${_hip_root}/gpu/kernels/*.cuh ${_hip_root}/include/dsv32/*.h
                       ${_hip_root}/model/*.h ${_hip_root}/checkpoint/*.h ${_hip_root}/kernels/*.h)

function(dsv32_hip_object out src)
  get_filename_component(_name ${src} NAME_WE)
  set(_obj ${CMAKE_CURRENT_BINARY_DIR}/hip/${_name}.o)
  add_custom_command(OUTPUT ${_obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/hip
    COMMAND ${_hip_env} ${DSV32_HIPCC} -x hip ${_hip_flags} ${ARGN} -c ${src} -o ${_obj}
    DEPENDS ${src} ${_hip_headers}
    COMMENT "hipcc (${_hip_ok}) ${_name}"
    VERBATIM)
  set(${out} ${_obj} PARENT_SCOPE)
endfunction()

dsv32_hip_object(_hip_kernels_o ${_hip_root}/gpu/gpu_kernels.cu)
dsv32_hip_object(_hip_engine_kernels_o ${_hip_root}/gpu/engine_kernels.cu)
# The engine's host code (the same files as the CUDA engine's, on host_runtime.h's hip* names) and the C entry points.
set(_hip_host_o)
foreach(src IN LISTS DSV32_GPU_HOST_SOURCES ITEMS gpu/hip/hip_entry.cpp)
  dsv32_hip_object(_o ${_hip_root}/${src})
  list(APPEND _hip_host_o ${_o})
endforeach()
# The runtime-free core files the engine needs (config, safetensors, the weights loader, KV cache bookkeeping):
# compiled by the host C++ compiler into the library, so that it never needs libdsv32.
list(TRANSFORM DSV32_HIP_CORE_SOURCES PREPEND ${_hip_root}/ OUTPUT_VARIABLE _hip_core_src)
add_library(dsv32_hip_core OBJECT ${_hip_core_src})
target_include_directories(dsv32_hip_core PRIVATE ${_hip_root} ${_hip_root}/include)
target_compile_options(dsv32_hip_core PRIVATE -fvisibility=hidden -Wno-unknown-pragmas)
set(DSV32_HIP_LIBRARY_FILE ${CMAKE_CURRENT_BINARY_DIR}/libdsv32_hip.so)
# --no-undefined: the library must stand alone (only the HIP runtime and the C++ runtime), never need libdsv32. The
# version script exports the C entry points only (gpu/hip/hip_abi.h): no C++ symbol of this library can interpose on
# libdsv32's (the same names, e.g. dsv32::gpu::open_engine of a CUDA build) nor the other way round.
add_custom_command(OUTPUT ${DSV32_HIP_LIBRARY_FILE}
  COMMAND ${_hip_env} ${DSV32_HIPCC} -shared -fPIC ${_hip_flags} -Wl,--no-undefined -Wl,-z,noexecstack -Wl,-soname,libdsv32_hip.so
          -Wl,--version-script=${_hip_root}/gpu/hip/hip_exports.map
          -o ${DSV32_HIP_LIBRARY_FILE} ${_hip_kernels_o} ${_hip_engine_kernels_o} ${_hip_host_o} $<TARGET_OBJECTS:dsv32_hip_core>
  DEPENDS ${_hip_kernels_o} ${_hip_engine_kernels_o} ${_hip_host_o} dsv32_hip_core $<TARGET_OBJECTS:dsv32_hip_core>
          ${_hip_root}/gpu/hip/hip_exports.map
  COMMENT "hipcc: libdsv32_hip.so (${_hip_ok})"
  COMMAND_EXPAND_LISTS
  VERBATIM)
add_custom_target(dsv32_hip ALL DEPENDS ${DSV32_HIP_LIBRARY_FILE})

# The shared kernels' test (test_gpu_kernels.cu, the one CUDA runs) compiled by hipcc against the HIP kernels, with
# the CPU references from the core archive; ctest gpu.kernels.hip: exit 77 (skipped) without an AMD GPU.
if(NOT DEFINED BUILD_TESTING OR BUILD_TESTING)
  set(_hip_test ${CMAKE_CURRENT_BINARY_DIR}/test_gpu_kernels_hip)
  dsv32_hip_object(_hip_test_o ${CMAKE_CURRENT_SOURCE_DIR}/src/test/cpp/gpu/test_gpu_kernels.cu -I${CMAKE_CURRENT_SOURCE_DIR}/src/test/cpp)
  add_custom_command(OUTPUT ${_hip_test}
    COMMAND ${_hip_env} ${DSV32_HIPCC} ${_hip_flags} -o ${_hip_test} ${_hip_test_o} ${_hip_kernels_o}
            $<TARGET_FILE:dsv32_static> -fopenmp=libgomp -lgomp -lpthread -ldl
    DEPENDS ${_hip_test_o} ${_hip_kernels_o} dsv32_static
    COMMENT "hipcc: test_gpu_kernels_hip"
    VERBATIM)
  add_custom_target(test_gpu_kernels_hip_build ALL DEPENDS ${_hip_test})
  add_test(NAME gpu.kernels.hip COMMAND ${_hip_test})
  set_tests_properties(gpu.kernels.hip PROPERTIES SKIP_RETURN_CODE 77 LABELS gpu)
endif()
