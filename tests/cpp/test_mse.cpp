// Placeholder until the mse tests land.
#include <gtest/gtest.h>

#include "miniflow/miniflow.hpp"

TEST(Placeholdermse, Builds) { SUCCEED(); }
