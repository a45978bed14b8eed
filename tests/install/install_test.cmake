# Installs the built tree into a scratch prefix outside the build and source
# trees, moves the prefix elsewhere (an installed sigma must not depend on
# where it was installed), then:
#  - builds and runs a consumer through find_package(sigma CONFIG), and one
#    through pkg-config;
#  - checks that a version the package does not satisfy is refused, for that
#    reason and no other;
#  - runs the installed `sigma` (tour sections on both vendored data sets)
#    from another directory with SIGMA_DATA_DIR unset, so it must find its
#    data relative to the executable; then removes the installed data and
#    checks that the binary fails naming the installed path and never the
#    source tree.
# Inputs: BUILD_DIR, SOURCE_DIR, WORK_DIR, CXX, HAVE_CLI.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
# A prefix under the build tree would count as "the build tree" to the CLI's
# data lookup, so the scratch prefixes live in the temporary directory.
string(MD5 tag "${WORK_DIR}")
set(scratch "/tmp/sigma-install-test-${tag}")
set(installed "${scratch}/installed")
set(prefix "${scratch}/moved")
file(REMOVE_RECURSE "${scratch}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${installed}")
file(RENAME "${installed}" "${prefix}")
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

# A version the package does not satisfy must be rejected, and for that
# reason: a configure that fails for any other cause proves nothing.
execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install/consumer"
                -B "${WORK_DIR}/cmake-bad" -DCMAKE_PREFIX_PATH=${prefix} -DSIGMA_WANT=99
                -DCMAKE_CXX_COMPILER=${CXX}
                "-DCMAKE_PROJECT_INCLUDE_BEFORE=${SOURCE_DIR}/tests/install/want_v99.cmake"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "find_package(sigma 99) succeeded against version 0.x")
endif()
string(REGEX REPLACE "[ \n]+" " " flat "${err}")
if(NOT flat MATCHES "sigmaConfig.cmake, version: 0\\.1" OR NOT flat MATCHES "requested version \"99\"")
  message(FATAL_ERROR "find_package(sigma 99) failed, but not because of the version:\n${out}\n${err}")
endif()

set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
# sigma is a static library: --static adds its private dependencies (hwy, OpenBLAS).
execute_process(COMMAND pkg-config --static --cflags --libs sigma OUTPUT_VARIABLE flags
                ERROR_VARIABLE err RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config cannot find sigma: ${err}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} "${SOURCE_DIR}/tests/install/consumer/main.cpp" ${flags} -fopenmp
    -o "${WORK_DIR}/pc-consumer")
run("${WORK_DIR}/pc-consumer")

if(HAVE_CLI)
  set(sigma "${prefix}/bin/sigma")
  set(elsewhere "${scratch}/cwd")
  file(MAKE_DIRECTORY "${elsewhere}")
  # Both vendored data sets (train: breast cancer; multilabel: digits).
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=SIGMA_DATA_DIR
                          "${sigma}" tour --quick --only train,multilabel --out "${elsewhere}/tour"
                  WORKING_DIRECTORY "${elsewhere}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${elsewhere}/tour/summary.json")
    message(FATAL_ERROR "the installed sigma tour failed (${rc}):\n${out}\n${err}")
  endif()
  # Without its installed data the binary must fail, naming where it looked,
  # and must not have fallen back to the source tree.
  file(REMOVE_RECURSE "${prefix}/share/sigma/data")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=SIGMA_DATA_DIR
                          "${sigma}" train --quick --out "${elsewhere}/train"
                  WORKING_DIRECTORY "${elsewhere}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "sigma train succeeded without its installed data: it read another copy\n${out}")
  endif()
  set(all "${out}${err}")
  string(FIND "${all}" "breast_cancer.csv not found" found_msg)
  string(FIND "${all}" "${prefix}/share/sigma/data" found_installed)
  string(FIND "${all}" "${SOURCE_DIR}/data" found_source)
  if(found_msg EQUAL -1 OR found_installed EQUAL -1 OR NOT found_source EQUAL -1)
    message(FATAL_ERROR "unexpected failure of sigma train without data:\n${all}")
  endif()
endif()
file(REMOVE_RECURSE "${scratch}")
