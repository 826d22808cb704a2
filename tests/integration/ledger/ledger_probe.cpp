// A test program with the plugin for tests/integration/ledger/ledger_test.py: five tests, of which
// two fail, so that the ledger's end record must say 3 passed, 2 failed and name the two.
#include <gtest/gtest.h>

TEST(ledger_probe, passes_one) { SUCCEED(); }
TEST(ledger_probe, fails_one) { FAIL() << "failing on purpose"; }
TEST(ledger_probe, passes_two) { EXPECT_EQ(1 + 1, 2); }
TEST(ledger_probe, fails_two) { EXPECT_EQ(1 + 1, 3) << "failing on purpose"; }
TEST(ledger_probe, passes_three) { SUCCEED(); }
