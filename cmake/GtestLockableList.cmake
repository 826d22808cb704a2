# Build step of gtest_lockable_discover_tests(POOL): writes to OUTPUT the inventory entries that
# REQUIREMENTS select (as `lockable --list` prints them), failing the build with lockable's own
# message when the inventory or the requirements are invalid.
#   cmake -DLOCKABLE=... -DRESOURCES=... -DREQUIREMENTS=... -DHOSTNAME=... -DOUTPUT=... -P this
set(args --resources "${RESOURCES}" --requirements "${REQUIREMENTS}")
if(NOT HOSTNAME STREQUAL "")
  list(APPEND args --hostname "${HOSTNAME}")
endif()
execute_process(COMMAND "${LOCKABLE}" ${args} --list
  OUTPUT_VARIABLE selected ERROR_VARIABLE problem RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gtest_lockable: cannot list the resources of ${RESOURCES}: ${problem}")
endif()
file(WRITE "${OUTPUT}" "${selected}")
