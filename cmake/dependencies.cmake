# Every dependency comes from the system (Debian packages); nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
# RE2 runs $regex (linear time, see src/query_regex.cpp). Debian's libre2-dev ships re2.pc but no
# CMake package.
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)
