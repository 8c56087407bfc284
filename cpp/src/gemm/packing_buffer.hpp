// The scratch memory that the blocked path packs A and B into: one buffer per thread and
// operand, grown as needed and kept between products.
#pragma once

#include <cstddef>
#include <memory>

namespace miniflow::detail {

// A growable 64-byte-aligned scratch area. Over-allocated and aligned by hand: a thread_local
// whose destructor calls the aligned operator delete crashes MinGW-w64's runtime when its
// thread exits.
class PackingBuffer {
public:
    template <typename T>
    T* reserve(std::size_t count) {
        const std::size_t bytes = count * sizeof(T);
        if (bytes > capacity_) {
            memory_.reset(new std::byte[bytes + alignment - 1]);  // uninitialised: packing fills it
            capacity_ = bytes;
        }
        void* start = memory_.get();
        std::size_t space = capacity_ + alignment - 1;
        return static_cast<T*>(std::align(alignment, capacity_, start, space));
    }

private:
    static constexpr std::size_t alignment = 64;
    std::unique_ptr<std::byte[]> memory_;
    std::size_t capacity_ = 0;
};

// This thread's buffers for packed A and packed B.
PackingBuffer& packed_a_buffer();
PackingBuffer& packed_b_buffer();

}  // namespace miniflow::detail
