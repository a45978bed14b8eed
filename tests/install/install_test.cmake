# Installs the built tree into a scratch prefix, then builds and runs a consumer
# through find_package(sigma CONFIG) and another through pkg-config.
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, CXX.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/sigma/reference.h include/sigma/version.h lib/cmake/sigma/sigmaConfig.cmake
          lib/cmake/sigma/sigmaConfigVersion.cmake lib/pkgconfig/sigma.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()

run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install/consumer" -B "${WORK_DIR}/cmake-build"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CXX})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-build")
run("${WORK_DIR}/cmake-build/consumer")

# A version the package does not satisfy must be rejected.
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install/consumer"
                -B "${WORK_DIR}/cmake-bad" -DCMAKE_PREFIX_PATH=${prefix} -DSIGMA_WANT=99
                "-DCMAKE_PROJECT_INCLUDE_BEFORE=${SOURCE_DIR}/tests/install/want_v99.cmake"
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
if(rc EQUAL 0)
  message(FATAL_ERROR "find_package(sigma 99) succeeded against version 0.x")
endif()

set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
# sigma is a static library: --static adds its private dependencies (hwy, OpenBLAS).
execute_process(COMMAND pkg-config --static --cflags --libs sigma OUTPUT_VARIABLE flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config cannot find sigma")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} "${SOURCE_DIR}/tests/install/consumer/main.cpp" ${flags} -fopenmp
    -o "${WORK_DIR}/pc-consumer")
run("${WORK_DIR}/pc-consumer")
