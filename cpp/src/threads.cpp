// The thread count setting: its default from MINIFLOW_NUM_THREADS or the hardware, and its limits.
#include "miniflow/threads.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace miniflow {

namespace {

int hardware_threads() {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : static_cast<int>(std::min(hardware, 1U << 20));
}

// The starting thread count, and why MINIFLOW_NUM_THREADS was not taken as it stands ("" if it
// was, or is unset or empty).
struct ThreadDefault {
    int count;
    std::string problem;
};

ThreadDefault read_thread_default() {
    const int hardware = hardware_threads();
    const char* requested = std::getenv("MINIFLOW_NUM_THREADS");
    if (requested == nullptr || *requested == '\0') return {hardware, ""};
    const std::string quoted = std::string("MINIFLOW_NUM_THREADS='") + requested + "'";
    char* end = nullptr;
    errno = 0;
    const long long count = std::strtoll(requested, &end, 10);
    if (end == requested || *end != '\0' || errno == ERANGE || count < 1) {
        return {hardware, quoted + " is not a whole number of threads of at least 1; using " +
                              std::to_string(hardware) + " (the hardware threads)"};
    }
    if (count > max_num_threads()) {
        return {max_num_threads(), quoted + " is more than the maximum, " +
                                       std::to_string(max_num_threads()) +
                                       " (four times the hardware threads); using " +
                                       std::to_string(max_num_threads())};
    }
    return {static_cast<int>(count), ""};
}

const ThreadDefault& thread_default() {
    static const ThreadDefault read = read_thread_default();
    return read;
}

std::atomic<int>& thread_setting() {
    static std::atomic<int> setting{thread_default().count};
    return setting;
}

}  // namespace

int max_num_threads() { return 4 * hardware_threads(); }

std::string num_threads_env_problem() { return thread_default().problem; }

void set_num_threads(int count) {
    if (count < 1 || count > max_num_threads()) {
        throw std::invalid_argument(
            "set_num_threads: count must be from 1 to " + std::to_string(max_num_threads()) +
            " (four times this machine's " + std::to_string(hardware_threads()) +
            " hardware threads), got " + std::to_string(count));
    }
    thread_setting().store(count);
}

int get_num_threads() { return thread_setting().load(); }

}  // namespace miniflow
