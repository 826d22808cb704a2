# Every dependency comes from the system (Debian packages); nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
# cpp-httplib ships no CMake config; pkg-config carries its -DCPPHTTPLIB_* flags (see DESIGN.md).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
