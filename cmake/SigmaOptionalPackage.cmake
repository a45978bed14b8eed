# sigma_find_optional(<Package> TARGET <imported-target> [VERSION v] [REQUIRED_BY_CI])
#
# Finds an optional peer (oneDNN, Eigen, LibTorch) so that an incomplete or
# broken package config can never fail sigma's configure. A package config is
# other people's CMake code: Debian's dnnl-config.cmake, for one, calls
# find_package(OpenCL REQUIRED), which aborts the whole configure when the
# OpenCL headers (only a Recommends of libdnnl-dev) are absent. So the package
# is first found in a throw-away CMake project of its own (a child `cmake`
# process); only when that succeeds and defines TARGET is it found again here,
# where it can no longer fail. Sets <Package>_USABLE (TRUE/FALSE) and, on
# success, whatever the package config sets (TORCH_LIBRARIES, ...).
#
# With SIGMA_REQUIRE_PEERS=ON (CI sets it), a peer that is not usable is a
# configure error instead of a skipped benchmark or test, so a CI machine where
# a peer silently vanished cannot pass.
#
# A macro, not a function, so that the package config's variables reach the
# caller.
option(SIGMA_REQUIRE_PEERS "Fail configure when an optional peer library is not usable" OFF)

macro(sigma_find_optional _pkg)
  cmake_parse_arguments(_SFO "" "TARGET;VERSION" "" ${ARGN})
  set(_sfo_dir "${CMAKE_BINARY_DIR}/package-probes/${_pkg}")
  file(MAKE_DIRECTORY "${_sfo_dir}/src")
  file(WRITE "${_sfo_dir}/src/CMakeLists.txt"
    "cmake_minimum_required(VERSION 3.25)\n"
    "project(sigma_probe_${_pkg} LANGUAGES CXX)\n"
    "find_package(${_pkg} ${_SFO_VERSION} CONFIG REQUIRED)\n"
    "if(NOT TARGET ${_SFO_TARGET})\n"
    "  message(FATAL_ERROR \"${_pkg}'s package config defines no target ${_SFO_TARGET}\")\n"
    "endif()\n")
  # Only the child's result matters; its output is kept in a log for whoever
  # wants to know why a peer was skipped.
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S "${_sfo_dir}/src" -B "${_sfo_dir}/build"
            "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH}"
    RESULT_VARIABLE _sfo_rc OUTPUT_FILE "${_sfo_dir}/probe.log" ERROR_FILE "${_sfo_dir}/probe.log")
  set(${_pkg}_USABLE FALSE)
  if(_sfo_rc EQUAL 0)
    find_package(${_pkg} ${_SFO_VERSION} CONFIG QUIET)
    if(${_pkg}_FOUND AND TARGET ${_SFO_TARGET})
      set(${_pkg}_USABLE TRUE)
    endif()
  endif()
  if(NOT ${_pkg}_USABLE)
    if(SIGMA_REQUIRE_PEERS)
      message(FATAL_ERROR "${_pkg} is required (SIGMA_REQUIRE_PEERS=ON) but its package config "
                          "failed or was not found; see ${_sfo_dir}/probe.log")
    endif()
    message(STATUS "${_pkg}: not usable, skipped (see ${_sfo_dir}/probe.log)")
  endif()
endmacro()
