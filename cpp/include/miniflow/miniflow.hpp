// Everything the MiniFlow core offers, in one include.
#pragma once

#include "miniflow/cpu.hpp"
#include "miniflow/gemm.hpp"
#include "miniflow/interrupt.hpp"
#include "miniflow/linear.hpp"
#include "miniflow/matrix.hpp"
#include "miniflow/mse.hpp"
#include "miniflow/relu.hpp"
#include "miniflow/sgd.hpp"
#include "miniflow/sigmoid.hpp"
#include "miniflow/tanh.hpp"
#include "miniflow/threads.hpp"
