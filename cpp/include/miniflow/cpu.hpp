// Which vector instruction set the kernels may use, chosen at run time from the CPU.
#pragma once

namespace miniflow {

// Ordered from least to most capable.
enum class Isa { generic = 0, avx2_fma = 1, avx512 = 2 };

// The most capable instruction set this CPU supports, capped by the MINIFLOW_ISA environment
// variable ("generic", "avx2" or "avx512") when it is set. Detected once.
Isa best_isa();

// Whether this CPU can run code built for `isa` (generic is always supported).
bool isa_supported(Isa isa);

// "generic", "avx2" or "avx512".
const char* isa_name(Isa isa);

}  // namespace miniflow
