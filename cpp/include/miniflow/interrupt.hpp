// Abandoning a long product from the thread that started it (Ctrl-C in Python).
#pragma once

#include <functional>

namespace miniflow {

// Lets the caller abandon a long product (Ctrl-C in Python). While an InterruptCheck lives on a
// thread, every blocked product that thread starts (gemm(), and the Linear functions through it)
// calls `check` on that thread between blocks, at most every 10 ms; pool workers never call it.
// When `check` throws, the product stops (each worker finishes the block it is on), c is left
// partly written, and the exception propagates out of gemm(). The innermost check is the one
// called.
class InterruptCheck {
public:
    explicit InterruptCheck(std::function<void()> check);
    ~InterruptCheck();
    InterruptCheck(const InterruptCheck&) = delete;
    InterruptCheck& operator=(const InterruptCheck&) = delete;

private:
    std::function<void()> check_;
    const std::function<void()>* outer_;
};

}  // namespace miniflow
