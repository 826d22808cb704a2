# Build step of gtest_lockable_discover_tests(POOL): puts the CTest resources of each pool (as
# GtestLockableList.cmake wrote them) into one CTest resource spec.
#   cmake -DPOOLS=pool1;list1.json;pool2;list2.json -DOUTPUT=spec.json -P this
set(local "{}")
list(LENGTH POOLS count)
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last} 2)
  math(EXPR j "${i} + 1")
  list(GET POOLS ${i} pool)
  list(GET POOLS ${j} list_file)
  file(READ "${list_file}" resources)
  string(JSON local SET "${local}" "${pool}" "${resources}")
endforeach()
set(spec "{\"version\": {\"major\": 1, \"minor\": 0}, \"local\": [${local}]}")
file(WRITE "${OUTPUT}" "${spec}\n")
