# Every dependency comes from the system (Debian packages); nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
# The GoogleTest plugin (gtest_lockable::gtest_lockable, gtest_lockable::main); the core does not
# use it.
find_package(GTest 1.12 REQUIRED)
