# What an installation has besides the libraries, headers and the CMake package: the lockable(1)
# man page, bash completion, a pkg-config file for the core library; and the CPack settings of
# the Debian package (`cmake --workflow --preset deb`, or cpack -G DEB in a build tree).
include(GNUInstallDirs)

# lockable(1), generated at build time from `lockable --help`: the page and the help cannot
# disagree. Needs to run the command just built, so not when cross-compiling.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND AND NOT CMAKE_CROSSCOMPILING)
  set(_default_man ON)
else()
  set(_default_man OFF)
endif()
option(GTEST_LOCKABLE_MAN_PAGE "Generate and install lockable(1) (needs Python 3)" ${_default_man})
if(GTEST_LOCKABLE_MAN_PAGE)
  if(NOT Python3_Interpreter_FOUND)
    message(FATAL_ERROR "GTEST_LOCKABLE_MAN_PAGE needs Python 3 (apt install python3)")
  endif()
  set(_man ${PROJECT_BINARY_DIR}/man/lockable.1.gz)
  add_custom_command(OUTPUT ${_man}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/packaging/lockable_man.py
      --lockable $<TARGET_FILE:gtest_lockable_cli> --output ${_man}
    DEPENDS gtest_lockable_cli ${PROJECT_SOURCE_DIR}/packaging/lockable_man.py
    COMMENT "Generating lockable(1) from lockable --help"
    VERBATIM)
  add_custom_target(gtest_lockable_man ALL DEPENDS ${_man})
  install(FILES ${_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# Where bash-completion looks for a command's completion (loaded on first use).
install(FILES ${PROJECT_SOURCE_DIR}/packaging/lockable.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME lockable)

# gtest_lockable.pc, relocatable: its paths are relative to the file's own folder.
set(_pcdir ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH GTEST_LOCKABLE_PC_PREFIX ${_pcdir} ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" GTEST_LOCKABLE_PC_PREFIX "${GTEST_LOCKABLE_PC_PREFIX}")
file(RELATIVE_PATH GTEST_LOCKABLE_PC_LIBDIR ${CMAKE_INSTALL_PREFIX} ${CMAKE_INSTALL_FULL_LIBDIR})
file(RELATIVE_PATH GTEST_LOCKABLE_PC_INCLUDEDIR ${CMAKE_INSTALL_PREFIX}
  ${CMAKE_INSTALL_FULL_INCLUDEDIR})
set(GTEST_LOCKABLE_PC_DL "")
foreach(_lib IN LISTS CMAKE_DL_LIBS)
  string(APPEND GTEST_LOCKABLE_PC_DL " -l${_lib}")
endforeach()
string(STRIP "${GTEST_LOCKABLE_PC_DL}" GTEST_LOCKABLE_PC_DL)
configure_file(${PROJECT_SOURCE_DIR}/packaging/gtest_lockable.pc.in
  ${PROJECT_BINARY_DIR}/gtest_lockable.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gtest_lockable.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Debian package: gtest-lockable_<version>_<arch>.deb (Debian names take no '_'). Depends
# are computed by dpkg-shlibdeps from what the command and the modules link, plus the headers'
# own dependency. Its files go where CMAKE_INSTALL_PREFIX says, as the paths compiled into the
# core (where it loads its modules from) do: the deb preset sets /usr.
if(PROJECT_IS_TOP_LEVEL)
  set(CPACK_PACKAGE_NAME gtest-lockable)
  set(CPACK_PACKAGE_VENDOR "gtest_lockable")
  set(CPACK_PACKAGE_CONTACT "gtest_lockable maintainers")
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
  set(CPACK_PACKAGE_DESCRIPTION
    "Locks shared test resources (boards, devices, accounts) from a JSON inventory for C++\n"
    "programs and GoogleTest suites, compatible with py-lockable: the core library and its\n"
    "headers, the GoogleTest plugin, the lockable command, the CMake package and module\n"
    "(gtest_lockable_discover_tests), and a pkg-config file for the core library.")
  string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
  set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(CPACK_STRIP_FILES ON)
  set(CPACK_GENERATOR DEB)
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
  set(CPACK_DEBIAN_PACKAGE_SECTION devel)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  # The public headers include nlohmann/json.hpp; the plugin needs GoogleTest to be used.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "nlohmann-json3-dev (>= 3.10)")
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libgtest-dev (>= 1.12), cmake (>= 3.25)")
  set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion, pkg-config")
  include(CPack)
endif()
