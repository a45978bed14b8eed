# Install rules: headers under include/sigma/, the library, a versioned CMake
# package (find_package(sigma CONFIG)) and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS sigma EXPORT sigmaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sigma
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/sigma/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sigma)
install(EXPORT sigmaTargets NAMESPACE sigma::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigma)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sigmaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/sigmaConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigma)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sigmaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sigmaConfig.cmake
              ${PROJECT_BINARY_DIR}/sigmaConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/sigma)

file(RELATIVE_PATH SIGMA_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${PROJECT_SOURCE_DIR}/cmake/sigma.pc.in ${PROJECT_BINARY_DIR}/sigma.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/sigma.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(SIGMA_BUILD_CLI)
  install(TARGETS sigma_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # The data sets the tour trains on (with their attribution README).
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sigma/data)
endif()
