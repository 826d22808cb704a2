# Every dependency comes from the system (Debian packages); nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Threads REQUIRED)
