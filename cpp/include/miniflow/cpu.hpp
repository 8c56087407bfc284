// Which vector instruction set the kernels use, chosen at run time from the CPU.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace miniflow {

// The instruction sets the core has kernels for; each architecture builds its own (see
// built_isas). generic is plain C++ that the compiler vectorises for the baseline ISA.
enum class Isa { generic, avx2_fma, avx512, neon };

// The instruction sets of this build's architecture, least capable first: generic, avx2_fma,
// avx512 on x86-64; generic, neon on arm64; generic alone elsewhere.
std::vector<Isa> built_isas();

// The most capable of built_isas() that this CPU supports, capped by the MINIFLOW_ISA
// environment variable when it names one of them (see isa_request). Detected once.
Isa best_isa();

// Whether this CPU can run code built for `isa`: generic always; avx2_fma and avx512 on an
// x86-64 CPU (and operating system) with those instructions; neon on every arm64 CPU.
bool isa_supported(Isa isa);

// "generic", "avx2", "avx512" or "neon": the names MINIFLOW_ISA accepts.
const char* isa_name(Isa isa);

// The member of built_isas() called `name` (exactly as isa_name spells it), or nothing.
std::optional<Isa> parse_isa(std::string_view name);

// What MINIFLOW_ISA asked for when best_isa() was detected. An empty or unset variable is no
// request; a value that parse_isa does not know is ignored (best_isa() is then the CPU's best),
// and `recognised` says so, so that a caller can warn.
struct IsaRequest {
    std::string value;
    bool recognised;
};
const IsaRequest& isa_request();

}  // namespace miniflow
