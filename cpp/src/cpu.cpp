#include "miniflow/cpu.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "cpuid.hpp"
#include "simd/target.hpp"

namespace miniflow {

namespace {

#if MINIFLOW_X86_64

struct X86Features {
    bool avx2_fma = false;
    bool avx512 = false;
};

bool bit(std::uint32_t value, int index) { return ((value >> index) & 1U) != 0; }

X86Features detect_x86() {
    using detail::cpuid;
    X86Features features;
    if (cpuid(0, 0).eax < 7) return features;  // no leaf 7, so no AVX2
    const detail::CpuidRegisters leaf1 = cpuid(1, 0);
    const bool fma = bit(leaf1.ecx, 12);
    const bool os_saves_registers = bit(leaf1.ecx, 27);  // OSXSAVE: xgetbv is usable
    const bool avx = bit(leaf1.ecx, 28);
    if (!os_saves_registers || !avx) return features;
    // A CPU with AVX instructions is of no use if the OS does not save the ymm/zmm registers.
    const std::uint64_t states = detail::saved_register_states();
    constexpr std::uint64_t xmm_ymm = 0x6;      // SSE and AVX state
    constexpr std::uint64_t opmask_zmm = 0xE0;  // AVX-512 opmask and zmm state
    if ((states & xmm_ymm) != xmm_ymm) return features;
    const detail::CpuidRegisters leaf7 = cpuid(7, 0);
    const bool avx2 = bit(leaf7.ebx, 5);
    const bool avx512f = bit(leaf7.ebx, 16);
    const bool avx512dq = bit(leaf7.ebx, 17);
    features.avx2_fma = avx2 && fma;
    features.avx512 =
        features.avx2_fma && avx512f && avx512dq && (states & opmask_zmm) == opmask_zmm;
    return features;
}

const X86Features& x86_features() {
    static const X86Features features = detect_x86();
    return features;
}

#endif  // MINIFLOW_X86_64

struct Detection {
    Isa best;
    IsaRequest request;
};

Detection detect() {
    const std::vector<Isa> isas = built_isas();
    std::size_t allowed = isas.size();  // the first `allowed` of isas may be chosen
    Detection detection{Isa::generic, {"", true}};
    const char* requested = std::getenv("MINIFLOW_ISA");
    if (requested != nullptr && *requested != '\0') {
        detection.request.value = requested;
        if (const auto cap = parse_isa(requested)) {
            allowed = 0;
            while (isas[allowed] != *cap) ++allowed;
            ++allowed;
        } else {
            detection.request.recognised = false;
        }
    }
    for (std::size_t i = allowed; i-- > 0;) {
        if (isa_supported(isas[i])) {
            detection.best = isas[i];
            break;
        }
    }
    return detection;
}

const Detection& detection() {
    static const Detection detected = detect();
    return detected;
}

}  // namespace

std::vector<Isa> built_isas() {
#if MINIFLOW_X86_64
    return {Isa::generic, Isa::avx2_fma, Isa::avx512};
#elif MINIFLOW_ARM64
    return {Isa::generic, Isa::neon};
#else
    return {Isa::generic};
#endif
}

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::generic:
            return true;
#if MINIFLOW_X86_64
        case Isa::avx2_fma:
            return x86_features().avx2_fma;
        case Isa::avx512:
            return x86_features().avx512;
#endif
#if MINIFLOW_ARM64
        case Isa::neon:
            return true;  // part of every AArch64 CPU
#endif
        default:
            return false;
    }
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::generic:
            return "generic";
        case Isa::avx2_fma:
            return "avx2";
        case Isa::avx512:
            return "avx512";
        case Isa::neon:
            return "neon";
    }
    return "unknown";
}

std::optional<Isa> parse_isa(std::string_view name) {
    for (Isa isa : built_isas()) {
        if (name == isa_name(isa)) return isa;
    }
    return std::nullopt;
}

Isa best_isa() { return detection().best; }

const IsaRequest& isa_request() { return detection().request; }

}  // namespace miniflow
