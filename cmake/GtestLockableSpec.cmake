# Build step of gtest_lockable_discover_tests: writes the CTest resource spec of every pool of the
# build (the descriptions in POOLS: each call's POOL, each requirement its tests declare) with
# `lockable --ctest-spec`, which warns of a pool that matches nothing. The command's path is in
# POOLS/tool.txt, generated where its target is visible.
#   cmake -DPOOLS=<build>/gtest_lockable_pools -DSPEC=<spec.json> -P this
file(READ "${POOLS}/tool.txt" tool)
execute_process(COMMAND "${tool}" --ctest-spec "${POOLS}" "${SPEC}" COMMAND_ERROR_IS_FATAL ANY)
