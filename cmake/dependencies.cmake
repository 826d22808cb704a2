# Every dependency comes from the system (Debian packages); nothing is downloaded. This file is
# also installed and included by the package config, so consumers find the same dependencies
# (find_dependency there, find_package here).
include(CMakeFindDependencyMacro)
if(GTEST_LOCKABLE_FINDING_DEPENDENCIES_FOR_PACKAGE)
  find_dependency(nlohmann_json 3.10)
  find_dependency(Threads)
  find_dependency(GTest 1.12)
else()
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(Threads REQUIRED)
  # The GoogleTest plugin (gtest_lockable::gtest_lockable, gtest_lockable::main); the core does not
  # use it.
  find_package(GTest 1.12 REQUIRED)
endif()
