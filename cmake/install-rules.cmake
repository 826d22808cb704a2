# Install rules: targets with an export set, headers, a package config with its version file, and
# the CMake module, so that `find_package(gtest_lockable)` gives the same targets and functions as
# `add_subdirectory`.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GTEST_LOCKABLE_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/gtest_lockable"
    CACHE STRING "Where the CMake package files are installed")
mark_as_advanced(GTEST_LOCKABLE_INSTALL_CMAKEDIR)

# Two export sets: the core and the command, which need no GoogleTest, and the plugin, which the
# package config loads only when it finds GoogleTest (or is asked for it).
install(TARGETS gtest_lockable_core gtest_lockable_cli
  EXPORT gtest_lockableTargets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT gtest_lockableTargets
  NAMESPACE gtest_lockable::
  DESTINATION ${GTEST_LOCKABLE_INSTALL_CMAKEDIR})
if(TARGET gtest_lockable_gtest)
  install(TARGETS gtest_lockable_gtest gtest_lockable_main
    EXPORT gtest_lockableGTestTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT gtest_lockableGTestTargets
    NAMESPACE gtest_lockable::
    DESTINATION ${GTEST_LOCKABLE_INSTALL_CMAKEDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/gtest_lockable/include/gtest_lockable
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/gtest_lockableConfig.cmake.in
  ${PROJECT_BINARY_DIR}/gtest_lockableConfig.cmake
  INSTALL_DESTINATION ${GTEST_LOCKABLE_INSTALL_CMAKEDIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gtest_lockableConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/gtest_lockableConfig.cmake
  ${PROJECT_BINARY_DIR}/gtest_lockableConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/dependencies.cmake
  ${PROJECT_SOURCE_DIR}/cmake/GtestLockable.cmake
  ${PROJECT_SOURCE_DIR}/cmake/GtestLockablePlan.cmake
  ${PROJECT_SOURCE_DIR}/cmake/GtestLockableSpec.cmake
  DESTINATION ${GTEST_LOCKABLE_INSTALL_CMAKEDIR})

# The man page, bash completion, pkg-config file and the Debian package settings.
include(${PROJECT_SOURCE_DIR}/cmake/packaging.cmake)
