#pragma once
// detail::parallel_for: the one way the library splits a loop between threads.
//
//   parallel_for(n, threads, f)                   f(begin, end) on contiguous chunks
//   parallel_for(n, threads, f, Schedule::queue)  f(k, k + 1), each index handed out once
//
// Uses t = min(threads, n) threads (threads == 0 counts as 1), the caller's included. With
// n == 0 f is not called; with t == 1 f(0, n) runs on the caller's thread and nothing is
// spawned. Otherwise an exception thrown by f on any thread is caught, the threads are
// joined, and the first exception caught is rethrown in the caller.
//
// Schedule::chunks: chunk i (0 <= i < t) is [i * per, min(n, (i + 1) * per)) with per =
// ceil(n / t), empty chunks skipped; chunk 0 runs on the caller's thread. Which indices share
// a call depends on n and t alone, so results computed chunk by chunk are reproducible. After
// an exception, the other chunks still run to their end.
//
// Schedule::queue: indices 0, 1, ..., n - 1 go one at a time, in increasing order, to whichever
// thread asks next (for tasks of uneven cost). After an exception no further index is handed
// out; the calls already running finish.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sleepnet {
namespace detail {

/// How parallel_for hands out [0, n) (see the top of this file).
enum class Schedule {
    chunks,  ///< t contiguous chunks of ceil(n / t) indices, fixed in advance
    queue,   ///< one index at a time from a shared counter
};

/// The number of threads parallel_for(n, threads, ...) uses: min(threads, n), at least 1.
inline std::size_t parallel_threads(std::size_t n, unsigned threads)
{
    return std::max<std::size_t>(1, std::min<std::size_t>(threads, n));
}

/// Indices per chunk of Schedule::chunks: ceil(n / parallel_threads(n, threads)).
inline std::size_t parallel_chunk(std::size_t n, unsigned threads)
{
    const std::size_t t = parallel_threads(n, threads);
    return (n + t - 1) / t;
}

/// Calls f(begin, end) over [0, n) on up to `threads` threads (see the top of this file).
template <class F>
inline void parallel_for(std::size_t n, unsigned threads, F&& f, Schedule schedule = Schedule::chunks)
{
    if (n == 0) return;
    const std::size_t t = parallel_threads(n, threads);
    if (t == 1) {
        f(std::size_t(0), n);
        return;
    }
    const std::size_t per = parallel_chunk(n, threads);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> halt{false};
    std::mutex mutex;
    std::exception_ptr failure;
    auto fail = [&] {  // inside a catch block
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        halt = true;
    };
    auto worker = [&](std::size_t chunk) {
        try {
            if (schedule == Schedule::chunks) {
                f(chunk * per, std::min(n, chunk * per + per));
                return;
            }
            while (!halt.load()) {
                const std::size_t k = next.fetch_add(1);
                if (k >= n) return;
                f(k, k + 1);
            }
        } catch (...) {
            fail();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(t - 1);
    for (std::size_t i = 1; i < t; ++i) {
        if (schedule == Schedule::chunks && i * per >= n) break;  // this chunk and the later ones are empty
        try {
            pool.emplace_back(worker, i);
        } catch (...) {  // no thread to be had: the ones started finish, then the error is rethrown
            fail();
            break;
        }
    }
    worker(0);
    for (auto& th : pool) th.join();
    if (failure) std::rethrow_exception(failure);
}

}  // namespace detail
}  // namespace sleepnet
