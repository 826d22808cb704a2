# Every dependency comes from the system (Debian packages); nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
# cpp-httplib ships no CMake config; pkg-config carries -DCPPHTTPLIB_OPENSSL_SUPPORT and friends,
# which must match how libcpp-httplib.so was built (else Request/Response layouts differ).
# Only the HTTP module links it (see gtest_lockable/src/http_transport.hpp).
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(OpenSSL 1.1.1 REQUIRED)
