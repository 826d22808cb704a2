// A suite written for C++11 that knows nothing of gtest_lockable, as GoogleTest's own
// gtest_unittest is: it checks what GoogleTest alone would give it.
#include <gtest/gtest.h>

TEST(legacy, keeps_its_cxx_standard) { EXPECT_EQ(__cplusplus, 201103L); }

// gtest_unittest checks that no property exists that it did not record.
TEST(legacy, sees_no_property_it_did_not_record) {
  EXPECT_EQ(0, ::testing::UnitTest::GetInstance()->ad_hoc_test_result().test_property_count());
}
