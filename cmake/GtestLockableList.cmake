# Build step of gtest_lockable_discover_tests(POOL): writes to OUTPUT the CTest resources of the
# inventory entries that REQUIREMENTS select, as `lockable --ctest-resources` prints them (the
# command owns the mapping from inventory ids to CTest ids, which the plugin shares), failing the
# build with lockable's own message when the inventory or the requirements are invalid.
#   cmake -DLOCKABLE=... -DRESOURCES=... -DREQUIREMENTS=... -DHOSTNAME=... -DOUTPUT=... -P this
# An empty argument would vanish from the command line: leave out what is empty.
set(args --resources "${RESOURCES}")
if(NOT REQUIREMENTS STREQUAL "")
  list(APPEND args --requirements "${REQUIREMENTS}")
endif()
if(NOT HOSTNAME STREQUAL "")
  list(APPEND args --hostname "${HOSTNAME}")
endif()
execute_process(COMMAND "${LOCKABLE}" ${args} --ctest-resources
  OUTPUT_VARIABLE selected ERROR_VARIABLE problem RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gtest_lockable: cannot list the resources of ${RESOURCES}: ${problem}")
endif()
file(WRITE "${OUTPUT}" "${selected}")
