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
