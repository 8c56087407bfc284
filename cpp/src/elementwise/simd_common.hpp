// What the vector-operations types (simd_avx2.hpp, simd_avx512.hpp) share.
#pragma once

namespace miniflow::detail {

// Selects the unmasked load and store of a full vector.
struct AllLanes {};

// As AllLanes, but the store is non-temporal (to an address aligned to the vector size): it
// skips reading the line before writing it and does not keep it in cache, which pays for outputs
// too large to stay in cache anyway.
struct AllLanesStreamed {};

}  // namespace miniflow::detail
