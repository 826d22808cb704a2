# Every dependency comes from the system (Debian packages); nothing is downloaded. This file is
# also installed and included by the package config, so consumers find the same dependencies
# (find_dependency there, find_package here).
include(CMakeFindDependencyMacro)
# GoogleTest is the plugin's alone: the package config looks for it only for the plugin's
# targets (see gtest_lockableConfig.cmake.in), so a consumer of only the core does not need it.
if(GTEST_LOCKABLE_FINDING_DEPENDENCIES_FOR_PACKAGE)
  find_dependency(nlohmann_json 3.10)
  find_dependency(Threads)
else()
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(Threads REQUIRED)
  # The GoogleTest plugin (gtest_lockable::gtest_lockable, gtest_lockable::main); the core and the
  # command do not use it. The tests and benchmarks need it; otherwise, without GoogleTest, only
  # the core and the command are built.
  if(GTEST_LOCKABLE_BUILD_TESTS OR GTEST_LOCKABLE_BUILD_BENCH)
    find_package(GTest 1.12 REQUIRED)
  else()
    find_package(GTest 1.12)
  endif()
  # cpp-httplib ships no CMake config; pkg-config carries -DCPPHTTPLIB_OPENSSL_SUPPORT and friends,
  # which must match how libcpp-httplib.so was built (else Request/Response layouts differ).
  # Only the HTTP module links it (see gtest_lockable/src/http/transport.hpp), which the core
  # loads at run time: consumers of the package do not need it.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
  find_package(OpenSSL 1.1.1 REQUIRED)
  # RE2 runs $regex (linear time, see src/query/regex.cpp). Debian's libre2-dev ships re2.pc but no
  # CMake package. Only the regex module links it, which the core loads at run time: consumers of
  # the package do not need it.
  pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
endif()
