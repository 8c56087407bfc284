// The GEMM's side of InterruptCheck (miniflow/interrupt.hpp): a product polls the check of the
// thread that started it between blocks.
#pragma once

#include <chrono>
#include <functional>

namespace miniflow::detail {

// How often at most the calling thread runs its interrupt check during a product.
constexpr auto interrupt_interval = std::chrono::milliseconds(10);

// The innermost InterruptCheck alive on this thread, or null.
const std::function<void()>* innermost_interrupt_check();

// Runs this thread's interrupt check, if it has one, when interrupt_interval has passed since
// the last run. Pool workers have none: only the thread that called gemm() is ever asked.
class InterruptPoll {
public:
    InterruptPoll()
        : check_(innermost_interrupt_check()), next_(Clock::now() + interrupt_interval) {}

    void operator()() {
        if (check_ == nullptr || Clock::now() < next_) return;
        (*check_)();
        next_ = Clock::now() + interrupt_interval;
    }

private:
    using Clock = std::chrono::steady_clock;
    const std::function<void()>* check_;
    Clock::time_point next_;
};

}  // namespace miniflow::detail
