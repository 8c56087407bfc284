// placeholder
#include <gtest/gtest.h>
TEST(PlaceholderLinear, Builds) { SUCCEED(); }
