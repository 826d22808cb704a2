# The second half of the discovery step of one gtest_lockable_discover_tests call, included by the
# call's generated discovery script right after GoogleTest's own (GoogleTestAddTests.cmake), with
# its variables: asks the test program what each test declares, gives each discovered test the
# CTest resource groups of what it needs, and brings the build's resource spec up to date.
#   GTEST_LOCKABLE_TOOL        the lockable command
#   GTEST_LOCKABLE_POOLS       the build's pool folder; GTEST_LOCKABLE_CALL_POOLS this call's part
#   GTEST_LOCKABLE_SPEC        the CTest resource spec to write
#   GTEST_LOCKABLE_URI_INVENTORY  TRUE when the inventory is a URI: tests lock, CTest does not
#                              schedule them (no pool can be read at build time)
set(_gl_list "${CTEST_FILE}.requirements.json")
if(NOT TEST_DISCOVERY_TIMEOUT)
  set(TEST_DISCOVERY_TIMEOUT 5)
endif()
# --gtest_list_tests as well: a program that does not call gtest_lockable::init lists its tests
# instead of running them, and --ctest-plan then says what is missing.
execute_process(
  COMMAND ${TEST_EXECUTOR} "${TEST_EXECUTABLE}" ${TEST_EXTRA_ARGS} --gtest_list_tests
          --lockable_list_requirements
  WORKING_DIRECTORY "${TEST_WORKING_DIR}"
  TIMEOUT ${TEST_DISCOVERY_TIMEOUT}
  OUTPUT_FILE "${_gl_list}" ERROR_VARIABLE _gl_problem RESULT_VARIABLE _gl_rc)
if(NOT _gl_rc EQUAL 0)
  file(REMOVE "${CTEST_FILE}")
  string(STRIP "${_gl_problem}" _gl_problem)
  message(FATAL_ERROR "gtest_lockable: ${TEST_EXECUTABLE} --lockable_list_requirements failed "
    "(${_gl_rc}): ${_gl_problem}")
endif()
if(NOT GTEST_LOCKABLE_URI_INVENTORY)
  execute_process(
    COMMAND "${GTEST_LOCKABLE_TOOL}" --ctest-plan "${_gl_list}" "${CTEST_FILE}"
            "${GTEST_LOCKABLE_CALL_POOLS}" "${TEST_LIST}"
    COMMAND_ERROR_IS_FATAL ANY)
endif()
execute_process(
  COMMAND "${GTEST_LOCKABLE_TOOL}" --ctest-spec "${GTEST_LOCKABLE_POOLS}" "${GTEST_LOCKABLE_SPEC}"
  COMMAND_ERROR_IS_FATAL ANY)
