# Compiler warnings for gtest_lockable's own targets, as private options: they never reach a
# project that links gtest_lockable (add_subdirectory, FetchContent or find_package), and every
# preset (the sanitizer ones too) gets the same set without repeating it in CMAKE_CXX_FLAGS.
option(GTEST_LOCKABLE_WERROR "Treat warnings in gtest_lockable's own targets as errors" OFF)

set(GTEST_LOCKABLE_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
if(GTEST_LOCKABLE_WERROR)
  list(APPEND GTEST_LOCKABLE_WARNING_FLAGS -Werror)
endif()

# Adds the warnings to each target, privately.
function(gtest_lockable_target_warnings)
  foreach(target IN LISTS ARGN)
    target_compile_options(${target} PRIVATE ${GTEST_LOCKABLE_WARNING_FLAGS})
  endforeach()
endfunction()
