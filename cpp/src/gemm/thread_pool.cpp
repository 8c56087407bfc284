// A small persistent pool of worker threads for large products, created on first use. A job is
// one function that every participating thread runs, handing out work from shared counters, so
// a slow worker only slows the blocks it took. Workers spin briefly after a job (the next product
// usually follows at once), then sleep on a condition variable, so an idle pool costs no CPU.
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "gemm_internal.hpp"

namespace miniflow {

namespace detail {

namespace {

class ThreadPool {
public:
    ThreadPool() = default;
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // Only one caller at a time drives the workers; the others get false and run serially.
    bool try_acquire() { return busy_.try_lock(); }
    void release() { busy_.unlock(); }

    // Runs work() on the caller and on up to `helpers` workers; requires try_acquire().
    void run(int helpers, const std::function<void()>& work) {
        start_workers(helpers);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = &work;
            helpers_ = helpers;
            closed_ = false;
            first_error_ = nullptr;
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        run_guarded(work);
        // The caller's call returns only when no block is left to hand out, so a worker that
        // has not joined yet has nothing to do: close the job to it and wait for those that did.
        {
            std::lock_guard<std::mutex> lock(mutex_);
            closed_ = true;
        }
        wait_for_workers();
        // The pool keeps no reference to the error (it may hold a Python object).
        if (std::exception_ptr error = std::exchange(first_error_, nullptr)) {
            std::rethrow_exception(error);
        }
    }

private:
    using Clock = std::chrono::steady_clock;
    // How long an idle thread polls before it sleeps. Long enough to bridge the gap between
    // products called back to back, short enough not to take the core from another program
    // (OpenBLAS, say) that runs between them.
    static constexpr std::chrono::microseconds spin_time{50};

    void start_workers(int wanted) {
        while (static_cast<int>(workers_.size()) < wanted) {
            const int index = static_cast<int>(workers_.size()) + 1;
            workers_.emplace_back([this, index, seen = generation_.load()] { work(index, seen); });
            // The pool lives until the process exits; its threads are never joined.
            workers_.back().detach();
        }
    }

    void run_guarded(const std::function<void()>& work) {
        try {
            work();
        } catch (...) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!first_error_) first_error_ = std::current_exception();
        }
    }

    void work(int index, std::uint64_t seen) {
        for (;;) {
            wait_for_generation_after(seen);
            const std::function<void()>* task = nullptr;
            {
                // The job's fields are read, and the worker joins it, under the lock that
                // published the job and closes it: a closed job is never joined.
                std::lock_guard<std::mutex> lock(mutex_);
                seen = generation_.load();
                if (index <= helpers_ && !closed_) {
                    task = task_;
                    active_.fetch_add(1, std::memory_order_relaxed);
                }
            }
            if (task == nullptr) continue;
            run_guarded(*task);
            std::lock_guard<std::mutex> lock(mutex_);
            if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) done_.notify_one();
        }
    }

    void wait_for_generation_after(std::uint64_t seen) {
        const auto spin_until = Clock::now() + spin_time;
        while (generation_.load(std::memory_order_acquire) == seen) {
            if (Clock::now() > spin_until) {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return generation_.load() != seen; });
                return;
            }
            std::this_thread::yield();
        }
    }

    void wait_for_workers() {
        const auto spin_until = Clock::now() + spin_time;
        while (active_.load(std::memory_order_acquire) != 0) {
            if (Clock::now() > spin_until) {
                std::unique_lock<std::mutex> lock(mutex_);
                done_.wait(lock, [&] { return active_.load() == 0; });
                return;
            }
            std::this_thread::yield();
        }
        // Pairs with the lock a worker takes to leave, so its writes are seen here.
        std::lock_guard<std::mutex> lock(mutex_);
    }

    std::mutex busy_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::vector<std::thread> workers_;
    std::atomic<std::uint64_t> generation_{0};
    // Workers inside the current job; changed under mutex_, polled without it.
    std::atomic<int> active_{0};
    const std::function<void()>* task_ = nullptr;
    int helpers_ = 0;
    bool closed_ = true;
    std::exception_ptr first_error_;
};

// Leaked on purpose: worker threads may still be waiting when static destructors run. A forked
// child has none of the parent's threads, so it starts a pool of its own.
std::atomic<ThreadPool*> shared_pool{nullptr};
#if defined(__unix__) || defined(__APPLE__)
// Windows has no fork(), so the handler exists only where POSIX threads do.
std::once_flag fork_handler_once;
#endif

ThreadPool& pool() {
#if defined(__unix__) || defined(__APPLE__)
    std::call_once(fork_handler_once,
                   [] { pthread_atfork(nullptr, nullptr, [] { shared_pool.store(nullptr); }); });
#endif
    ThreadPool* existing = shared_pool.load(std::memory_order_acquire);
    if (existing != nullptr) return *existing;
    auto* created = new ThreadPool();
    if (shared_pool.compare_exchange_strong(existing, created, std::memory_order_acq_rel)) {
        return *created;
    }
    delete created;
    return *existing;
}

}  // namespace

void share_work(int helpers, const std::function<void()>& work) {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
    // WebAssembly built without threads cannot start one: the caller takes every piece.
    helpers = 0;
#endif
    if (helpers <= 0) {
        work();
        return;
    }
    ThreadPool& workers = pool();
    if (!workers.try_acquire()) {
        work();
        return;
    }
    try {
        workers.run(helpers, work);
    } catch (...) {
        workers.release();
        throw;
    }
    workers.release();
}

}  // namespace detail

}  // namespace miniflow
