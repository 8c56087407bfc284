#include "miniflow/cpu.hpp"

#include <cstddef>
#include <cstdlib>

#include "simd/target.hpp"

#if MINIFLOW_X86_64 && defined(_MSC_VER)
#include <intrin.h>
#elif MINIFLOW_X86_64
#include <cpuid.h>
#endif

namespace miniflow {

namespace {

#if MINIFLOW_X86_64

// cpuid of `leaf` and `subleaf`: eax, ebx, ecx, edx.
void cpuid(unsigned leaf, unsigned subleaf, unsigned (&registers)[4]) {
#if defined(_MSC_VER)
    int values[4];
    __cpuidex(values, static_cast<int>(leaf), static_cast<int>(subleaf));
    for (std::size_t i = 0; i < 4; ++i) registers[i] = static_cast<unsigned>(values[i]);
#else
    __cpuid_count(leaf, subleaf, registers[0], registers[1], registers[2], registers[3]);
#endif
}

// XCR0: the register states the operating system saves on a context switch. A CPU with AVX
// instructions is of no use if the OS does not save the ymm/zmm registers.
unsigned long long saved_register_states() {
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    // The instruction itself, so that this function needs no target attribute.
    unsigned low = 0;
    unsigned high = 0;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return (static_cast<unsigned long long>(high) << 32) | low;
#endif
}

struct X86Features {
    bool avx2_fma = false;
    bool avx512 = false;
};

bool bit(unsigned value, int index) { return ((value >> index) & 1U) != 0; }

X86Features detect_x86() {
    X86Features features;
    unsigned registers[4];
    cpuid(0, 0, registers);
    if (registers[0] < 7) return features;  // no leaf 7, so no AVX2
    cpuid(1, 0, registers);
    const bool fma = bit(registers[2], 12);
    const bool os_saves_registers = bit(registers[2], 27);  // OSXSAVE: xgetbv is usable
    const bool avx = bit(registers[2], 28);
    if (!os_saves_registers || !avx) return features;
    const unsigned long long states = saved_register_states();
    constexpr unsigned long long xmm_ymm = 0x6;      // SSE and AVX state
    constexpr unsigned long long opmask_zmm = 0xE0;  // AVX-512 opmask and zmm state
    if ((states & xmm_ymm) != xmm_ymm) return features;
    cpuid(7, 0, registers);
    const bool avx2 = bit(registers[1], 5);
    const bool avx512f = bit(registers[1], 16);
    const bool avx512dq = bit(registers[1], 17);
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
