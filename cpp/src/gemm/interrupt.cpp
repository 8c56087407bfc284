// InterruptCheck: a stack of checks per thread, of which products poll the innermost.
#include "miniflow/interrupt.hpp"

#include <functional>
#include <utility>

#include "gemm/interrupt_poll.hpp"

namespace miniflow {

namespace {

thread_local const std::function<void()>* innermost_check = nullptr;

}  // namespace

namespace detail {

const std::function<void()>* innermost_interrupt_check() { return innermost_check; }

}  // namespace detail

InterruptCheck::InterruptCheck(std::function<void()> check)
    : check_(std::move(check)), outer_(innermost_check) {
    innermost_check = &check_;
}

InterruptCheck::~InterruptCheck() { innermost_check = outer_; }

}  // namespace miniflow
