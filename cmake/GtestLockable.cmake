#[=======================================================================[.rst:
GtestLockable
-------------

Registers GoogleTest suites with CTest so that each test runs while it holds a resource from a
gtest_lockable inventory, and lets ``ctest -j`` schedule tests across the resource pool.

Available right after ``find_package(gtest_lockable)`` or ``add_subdirectory(gtest_lockable)``.

.. command:: gtest_lockable_discover_tests

  ::

    gtest_lockable_discover_tests(<target>
      [REQUIREMENTS <json-or-key=value>]
      [RESOURCES <file-or-uri>]
      [LOCK_FOLDER <dir>]
      [LOCK_SERVER <etcd-uri>]
      [TIMEOUT <duration>]
      [HOSTNAME <name>]
      [ON_UNAVAILABLE fail|skip]
      [POOL <name>]
      [PROPERTIES <name> <value>...]
      [<any other gtest_discover_tests argument>...])

  Discovers the tests of ``<target>`` (a GoogleTest executable linked with
  ``gtest_lockable::main``, or calling ``gtest_lockable::init``) like ``gtest_discover_tests``
  and registers each test case as its own CTest test, run with the matching ``--lockable_*``
  arguments.

  ``REQUIREMENTS``
    What the resource must match: a JSON object or ``key=value&key2=value2``.
    Default: none (only the defaults ``hostname`` and ``online``).

  ``RESOURCES``
    The inventory: a file (relative paths are taken from the current source directory) or an
    ``http(s)://`` URI. Default: ``resources.json`` in the current source directory.

  ``LOCK_FOLDER``
    The lock folder. Default: the cache variable ``GTEST_LOCKABLE_LOCK_FOLDER`` when set, else
    the plugin's default when the test runs (``LOCKABLE_LOCK_FOLDER``, else ``$TMPDIR``, else
    ``/tmp``).

  ``LOCK_SERVER``
    An ``etcd://host:port[,host:port...][/prefix]`` lock server instead of the lock folder.

  ``TIMEOUT``
    How long to wait for a matching resource: seconds (``10``, ``0.5``) or a number with a unit
    (``90s``, ``15m``, ``2h``). Default: the plugin's (10).

  ``HOSTNAME``
    The host name resources must have. Default: the name of the host the tests run on.

  ``ON_UNAVAILABLE``
    ``fail`` (default): a test that gets no resource fails. ``skip``: it is reported skipped.

  ``POOL``
    A CTest resource type (``[a-z_][a-z0-9_]*``). The inventory entries that ``REQUIREMENTS``
    select become the pool's resources in a CTest resource spec generated at build time (and
    again whenever the inventory changes); each test gets ``RESOURCE_GROUPS <pool>:1``, so
    ``ctest -j`` never starts more of them at once than the pool holds, and the plugin tries the
    resource CTest assigned first (still through the lock store, which also excludes other ctest
    runs, IDEs and py-lockable jobs). Needs a file inventory; with a URI, tests still lock but are
    not scheduled. Inventory ids are mapped to CTest's ``[a-z0-9_]`` form by
    ``lockable --ctest-resources`` (lower case, other characters ``_``; ids that map alike become
    one CTest resource with several slots).

  When the program's tests declare their requirements in code (``GTEST_LOCKABLE_REQUIRE``), no
  ``POOL`` is needed: the discovery step runs the program with ``--lockable_list_requirements``
  and gives each test its own ``RESOURCE_GROUPS``, one group per resource it needs, from a pool
  per distinct requirement (``lockable --ctest-plan``); the resource spec then holds every pool
  of the build tree. ``ctest`` schedules from any directory of the build tree. A program that
  declares wins over ``POOL``. ``DISCOVERY_MODE PRE_TEST`` is not scheduled per test.

  ``PROPERTIES``
    Test properties, as for ``set_tests_properties``. Unlike ``gtest_discover_tests``, list
    values are kept whole (``ENVIRONMENT "A=1;B=2"`` sets both variables).

  Any other argument (``EXTRA_ARGS``, ``WORKING_DIRECTORY``, ``TEST_PREFIX``, ``DISCOVERY_MODE``,
  ...) is passed to ``gtest_discover_tests``.

  A target may be given to several calls (with other ``TEST_LIST``, ``TEST_PREFIX`` or
  ``TEST_FILTER``, say): each call's tests get that call's arguments and properties. Give the
  calls tests of different names (``TEST_FILTER`` or ``TEST_PREFIX``).

.. variable:: GTEST_LOCKABLE_LOCK_FOLDER

  Cache variable: the lock folder of every call without ``LOCK_FOLDER``. Default: empty, which
  passes no ``--lockable_lock_folder`` flag, so the plugin's own default applies when the test
  runs (``LOCKABLE_LOCK_FOLDER``, else ``$TMPDIR``, else ``/tmp``), shared by every build tree on
  the host so that their tests exclude each other (and the ``lockable`` command and py-lockable
  jobs given that folder).

#]=======================================================================]
include_guard(GLOBAL)

# Empty: no --lockable_lock_folder flag, so the plugin's own default applies when the test runs
# (LOCKABLE_LOCK_FOLDER, else $TMPDIR, else /tmp); the C++ side is the only one that computes it.
set(GTEST_LOCKABLE_LOCK_FOLDER "" CACHE PATH
    "Lock folder for tests registered by gtest_lockable_discover_tests (empty: the plugin's default)")

# Functions are global but variables are not: the deferred spec rule finds its helper scripts
# through this property, also when the module was included in a subdirectory.
set_property(GLOBAL PROPERTY _GTEST_LOCKABLE_MODULE_DIR "${CMAKE_CURRENT_LIST_DIR}")

function(gtest_lockable_discover_tests target)
  # GoogleTest.cmake keeps the path of its discovery script in a variable of the scope that
  # included it: include it here, so that this works from any directory of any project.
  include(GoogleTest)
  cmake_parse_arguments(PARSE_ARGV 1 arg ""
    "REQUIREMENTS;RESOURCES;LOCK_FOLDER;LOCK_SERVER;TIMEOUT;HOSTNAME;ON_UNAVAILABLE;POOL;TEST_LIST"
    "PROPERTIES;EXTRA_ARGS")
  if(NOT TARGET ${target})
    message(FATAL_ERROR "gtest_lockable_discover_tests: '${target}' is not a target")
  endif()
  if(DEFINED arg_ON_UNAVAILABLE AND NOT arg_ON_UNAVAILABLE MATCHES "^(fail|skip)$")
    message(FATAL_ERROR "gtest_lockable_discover_tests(${target}): ON_UNAVAILABLE must be fail or skip, not '${arg_ON_UNAVAILABLE}'")
  endif()
  if(DEFINED arg_TIMEOUT AND NOT arg_TIMEOUT MATCHES "^[0-9]+(\\.[0-9]+)?[smh]?$")
    message(FATAL_ERROR "gtest_lockable_discover_tests(${target}): TIMEOUT must be seconds or a number with a unit (10, 0.5, 90s, 15m, 2h), not '${arg_TIMEOUT}'")
  endif()
  if(DEFINED arg_POOL AND NOT arg_POOL MATCHES "^[a-z_][a-z0-9_]*$")
    message(FATAL_ERROR "gtest_lockable_discover_tests(${target}): POOL must match [a-z_][a-z0-9_]* (a CTest resource type), not '${arg_POOL}'")
  endif()
  if(NOT DEFINED arg_TEST_LIST)
    set(arg_TEST_LIST ${target}_TESTS)
  endif()

  if(NOT DEFINED arg_RESOURCES)
    set(arg_RESOURCES resources.json)
  endif()
  set(uri FALSE)
  if(arg_RESOURCES MATCHES "^https?://")
    set(uri TRUE)
  else()
    cmake_path(ABSOLUTE_PATH arg_RESOURCES BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  if(NOT DEFINED arg_LOCK_FOLDER AND NOT GTEST_LOCKABLE_LOCK_FOLDER STREQUAL "")
    set(arg_LOCK_FOLDER "${GTEST_LOCKABLE_LOCK_FOLDER}")
  endif()

  set(flags "--lockable_resources=${arg_RESOURCES}")
  foreach(key IN ITEMS LOCK_FOLDER REQUIREMENTS LOCK_SERVER TIMEOUT HOSTNAME ON_UNAVAILABLE)
    if(DEFINED arg_${key})
      string(TOLOWER "${key}" flag)
      list(APPEND flags "--lockable_${flag}=${arg_${key}}")
    endif()
  endforeach()
  # A `;` in a value would split it into two arguments on its way through gtest_discover_tests.
  foreach(flag IN LISTS flags)
    if(flag MATCHES ";")
      message(FATAL_ERROR "gtest_lockable_discover_tests(${target}): '${flag}' contains ';', which CMake lists cannot carry")
    endif()
  endforeach()

  # Properties go through a file that ctest includes after discovery, with every value quoted,
  # instead of through gtest_discover_tests(PROPERTIES), which flattens list values.
  set(props "${arg_PROPERTIES}")
  list(LENGTH props count)
  math(EXPR odd "${count} % 2")
  if(odd)
    message(FATAL_ERROR "gtest_lockable_discover_tests(${target}): PROPERTIES needs name value pairs")
  endif()
  # One file per call: a target may be discovered several times (other TEST_LIST, TEST_PREFIX or
  # TEST_FILTER), and each call's file sets the properties of its own tests.
  get_property(call TARGET ${target} PROPERTY _GTEST_LOCKABLE_CALLS)
  if(NOT call)
    set(call 0)
  endif()
  math(EXPR call "${call} + 1")
  set_property(TARGET ${target} PROPERTY _GTEST_LOCKABLE_CALLS ${call})
  set(include_file "${CMAKE_CURRENT_BINARY_DIR}/${target}_lockable_properties_${call}.cmake")
  set(content "# Generated by call ${call} of gtest_lockable_discover_tests(${target})\n")
  if(count GREATER 0)
    string(APPEND content "if(${arg_TEST_LIST})\n  set_tests_properties(\${${arg_TEST_LIST}} PROPERTIES")
    math(EXPR last "${count} - 1")
    foreach(i RANGE 0 ${last} 2)
      math(EXPR j "${i} + 1")
      list(GET props ${i} name)
      list(GET props ${j} value)
      string(APPEND content " ${name} [==[${value}]==]")
    endforeach()
    string(APPEND content ")\nendif()\n")
  endif()
  # POOL: every test takes one of the pool, unless the program declares per test what its tests
  # need, when the discovery step gave each test its own groups (and set the variable below).
  if(DEFINED arg_POOL AND NOT uri)
    _gtest_lockable_configure_pool("${arg_POOL}" "${arg_RESOURCES}" "${arg_REQUIREMENTS}" "${arg_HOSTNAME}")
    string(APPEND content "if(${arg_TEST_LIST} AND NOT ${arg_TEST_LIST}_LOCKABLE_PER_TEST)\n"
      "  set_tests_properties(\${${arg_TEST_LIST}} PROPERTIES RESOURCE_GROUPS [==[${arg_POOL}:1]==])\n"
      "endif()\n")
  endif()
  file(GENERATE OUTPUT "${include_file}" CONTENT "${content}")

  # Per-test scheduling: this call's discovery step runs GoogleTest's, then asks the program what
  # each test declares (--lockable_list_requirements) and gives each discovered test the CTest
  # resource groups of its needs (lockable --ctest-plan), in a script generated here, where the
  # lockable target is visible even when gtest_lockable was found in this directory only.
  _gtest_lockable_use_spec_in_parents()
  set(pools_dir "${CMAKE_BINARY_DIR}/gtest_lockable_pools")
  set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/${target}_lockable_discovery_${call}.cmake")
  file(GENERATE OUTPUT "${wrapper}" CONTENT "\
# Generated by call ${call} of gtest_lockable_discover_tests(${target}): GoogleTest's discovery,
# then the CTest resource groups of what each test declares.
include([==[${_GOOGLETEST_DISCOVER_TESTS_SCRIPT}]==])
if(CMAKE_SCRIPT_MODE_FILE)
  set(GTEST_LOCKABLE_TOOL [==[$<TARGET_FILE:gtest_lockable::lockable>]==])
  set(GTEST_LOCKABLE_POOLS [==[${pools_dir}]==])
  set(GTEST_LOCKABLE_CALL_POOLS [==[${pools_dir}/${target}.${call}]==])
  set(GTEST_LOCKABLE_SPEC [==[${CMAKE_BINARY_DIR}/gtest_lockable_resource_spec.json]==])
  set(GTEST_LOCKABLE_URI_INVENTORY ${uri})
  include([==[${CMAKE_CURRENT_FUNCTION_LIST_DIR}/GtestLockablePlan.cmake]==])
endif()
")
  set(_GOOGLETEST_DISCOVER_TESTS_SCRIPT "${wrapper}")
  _gtest_lockable_add_to_spec("${target}" "${arg_RESOURCES}" ${uri})

  gtest_discover_tests(${target}
    EXTRA_ARGS ${flags} ${arg_EXTRA_ARGS}
    TEST_LIST ${arg_TEST_LIST}
    ${arg_UNPARSED_ARGUMENTS})
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${include_file}")
endfunction()

# Writes the description of POOL, which the resource spec turns into the pool's resources, at
# configure time: an explicit POOL's tests each take one of it.
function(_gtest_lockable_configure_pool pool resources requirements hostname)
  get_property(pools GLOBAL PROPERTY _GTEST_LOCKABLE_POOLS)
  if(pool IN_LIST pools)
    foreach(part IN ITEMS resources requirements hostname)
      get_property(known GLOBAL PROPERTY _GTEST_LOCKABLE_POOL_${pool}_${part})
      if(NOT known STREQUAL "${${part}}")
        message(FATAL_ERROR "gtest_lockable_discover_tests: POOL ${pool} is used with different RESOURCES, REQUIREMENTS or HOSTNAME")
      endif()
    endforeach()
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_POOLS ${pool})
  set(json "{}")
  foreach(part IN ITEMS resources requirements hostname)
    set_property(GLOBAL PROPERTY _GTEST_LOCKABLE_POOL_${pool}_${part} "${${part}}")
    # JSON string escapes; string(JSON) then checks the result.
    string(REPLACE "\\" "\\\\" value "${${part}}")
    string(REPLACE "\"" "\\\"" value "${value}")
    string(JSON json SET "${json}" "${part}" "\"${value}\"")
  endforeach()
  set(file "${CMAKE_BINARY_DIR}/gtest_lockable_pools/configured/${pool}.json")
  file(CONFIGURE OUTPUT "${file}" CONTENT "${json}\n" @ONLY)
  set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_SPEC_INPUTS "${file}")
endfunction()

# Records what the resource spec depends on; the spec is written by one build step, defined at
# the end of the top-level directory, and again by each discovery step.
function(_gtest_lockable_add_to_spec target resources uri)
  get_property(started GLOBAL PROPERTY _GTEST_LOCKABLE_SPEC_DEFERRED)
  if(NOT started)
    set_property(GLOBAL PROPERTY _GTEST_LOCKABLE_SPEC_DEFERRED TRUE)
    # The build step finds the command through this file, generated here, where the imported
    # target is visible, unlike in the top-level directory after a find_package in a subdirectory.
    file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/gtest_lockable_pools/tool.txt"
      CONTENT "$<TARGET_FILE:gtest_lockable::lockable>")
    get_target_property(tool gtest_lockable::lockable ALIASED_TARGET)
    if(tool)  # built here (add_subdirectory, FetchContent): build it before the spec step runs
      set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_SPEC_TARGETS ${tool})
    endif()
    cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _gtest_lockable_write_spec_rule)
  endif()
  set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_SPEC_TARGETS ${target})
  if(NOT uri)
    set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_SPEC_INPUTS "${resources}")
  endif()
endfunction()

# CTest reads CTEST_RESOURCE_SPEC_FILE from the CTestTestfile.cmake of the directory it runs in:
# set it, at their end, in the calling directory and in every directory above it, so that `ctest`
# from any of them schedules by the pools.
function(_gtest_lockable_use_spec_in_parents)
  set(dir "${CMAKE_CURRENT_SOURCE_DIR}")
  while(dir)
    get_property(done GLOBAL PROPERTY _GTEST_LOCKABLE_SPEC_SET_IN)
    if(NOT dir IN_LIST done)
      set_property(GLOBAL APPEND PROPERTY _GTEST_LOCKABLE_SPEC_SET_IN "${dir}")
      cmake_language(DEFER DIRECTORY "${dir}" CALL set CTEST_RESOURCE_SPEC_FILE
        "${CMAKE_BINARY_DIR}/gtest_lockable_resource_spec.json")
    endif()
    get_property(dir DIRECTORY "${dir}" PROPERTY PARENT_DIRECTORY)
  endwhile()
endfunction()

# Runs at the end of the top-level directory: the build step that writes the resource spec of
# every pool, after every test program was built and discovered.
macro(_gtest_lockable_write_spec_rule)
  get_property(_gl_module_dir GLOBAL PROPERTY _GTEST_LOCKABLE_MODULE_DIR)
  get_property(_gl_inputs GLOBAL PROPERTY _GTEST_LOCKABLE_SPEC_INPUTS)
  get_property(_gl_targets GLOBAL PROPERTY _GTEST_LOCKABLE_SPEC_TARGETS)
  list(REMOVE_DUPLICATES _gl_inputs)
  set(_gl_spec "${CMAKE_BINARY_DIR}/gtest_lockable_resource_spec.json")
  add_custom_command(OUTPUT "${_gl_spec}.stamp"
    COMMAND "${CMAKE_COMMAND}" "-DPOOLS=${CMAKE_BINARY_DIR}/gtest_lockable_pools"
            "-DSPEC=${_gl_spec}" -P "${_gl_module_dir}/GtestLockableSpec.cmake"
    COMMAND "${CMAKE_COMMAND}" -E touch "${_gl_spec}.stamp"
    DEPENDS ${_gl_inputs} "${CMAKE_BINARY_DIR}/gtest_lockable_pools/tool.txt"
            "${_gl_module_dir}/GtestLockableSpec.cmake"
    COMMENT "Generating the CTest resource spec from the gtest_lockable inventory"
    VERBATIM)
  add_custom_target(gtest_lockable_resource_spec ALL DEPENDS "${_gl_spec}.stamp")
  add_dependencies(gtest_lockable_resource_spec ${_gl_targets})
endmacro()
