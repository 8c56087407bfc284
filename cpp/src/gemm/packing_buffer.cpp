#include "gemm/packing_buffer.hpp"

namespace miniflow::detail {

PackingBuffer& packed_a_buffer() {
    thread_local PackingBuffer buffer;
    return buffer;
}

PackingBuffer& packed_b_buffer() {
    thread_local PackingBuffer buffer;
    return buffer;
}

}  // namespace miniflow::detail
