#include "miniflow/cpu.hpp"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace miniflow {

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::generic:
            return true;
        case Isa::avx2_fma:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return false;
}

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::generic:
            return "generic";
        case Isa::avx2_fma:
            return "avx2";
        case Isa::avx512:
            return "avx512";
    }
    return "unknown";
}

namespace {

Isa detect() {
    Isa cap = Isa::avx512;
    if (const char* requested = std::getenv("MINIFLOW_ISA")) {
        if (std::strcmp(requested, "generic") == 0) cap = Isa::generic;
        if (std::strcmp(requested, "avx2") == 0) cap = Isa::avx2_fma;
    }
    for (Isa isa : {Isa::avx512, Isa::avx2_fma}) {
        if (isa <= cap && isa_supported(isa)) return isa;
    }
    return Isa::generic;
}

}  // namespace

Isa best_isa() {
    static const Isa detected = detect();
    return detected;
}

}  // namespace miniflow
