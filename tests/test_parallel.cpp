// detail::parallel_for (detail/parallel.hpp) against oracles: every index visited once, the
// documented chunk boundaries, the inline path, exceptions rethrown in the caller, and a
// reduction whose result does not depend on the thread count.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sleepnet/detail/parallel.hpp>

#include "support.hpp"

using sleepnet::detail::parallel_chunk;
using sleepnet::detail::parallel_for;
using sleepnet::detail::parallel_threads;
using sleepnet::detail::Schedule;

namespace {

struct Call {
    std::size_t begin, end;
    std::thread::id thread;
};

/// The calls parallel_for(n, threads, ., schedule) makes, sorted by begin.
std::vector<Call> calls_of(std::size_t n, unsigned threads, Schedule schedule)
{
    std::mutex mutex;
    std::vector<Call> calls;
    parallel_for(
        n, threads,
        [&](std::size_t begin, std::size_t end) {
            std::lock_guard<std::mutex> lock(mutex);
            calls.push_back({begin, end, std::this_thread::get_id()});
        },
        schedule);
    std::sort(calls.begin(), calls.end(), [](const Call& a, const Call& b) { return a.begin < b.begin; });
    return calls;
}

/// The documented chunks: t = max(1, min(threads, n)), per = ceil(n / t), chunk i = [i per, min(n, (i+1) per)), non-empty.
std::vector<std::pair<std::size_t, std::size_t>> expected_chunks(std::size_t n, unsigned threads)
{
    std::vector<std::pair<std::size_t, std::size_t>> out;
    if (n == 0) return out;
    const std::size_t t = std::max<std::size_t>(1, std::min<std::size_t>(threads, n));
    const std::size_t per = (n + t - 1) / t;
    for (std::size_t i = 0; i < t; ++i) {
        const std::size_t b = std::min(n, i * per), e = std::min(n, b + per);
        if (b < e) out.emplace_back(b, e);
    }
    return out;
}

const std::size_t sizes[] = {0, 1, 2, 3, 5, 7, 8, 9, 10, 16, 17, 100, 1001};
const unsigned thread_counts[] = {0, 1, 2, 3, 4, 7, 8, 16};

}  // namespace

TEST_CASE("parallel_for visits every index exactly once")
{
    for (Schedule schedule : {Schedule::chunks, Schedule::queue}) {
        for (std::size_t n : sizes) {
            for (unsigned threads : thread_counts) {
                CAPTURE(n);
                CAPTURE(threads);
                CAPTURE(static_cast<int>(schedule));
                std::vector<std::atomic<int>> visits(n);
                for (auto& v : visits) v = 0;
                std::atomic<std::size_t> calls{0};
                parallel_for(
                    n, threads,
                    [&](std::size_t begin, std::size_t end) {
                        CHECK(begin < end);
                        CHECK(end <= n);
                        ++calls;
                        for (std::size_t i = begin; i < end; ++i) ++visits[i];
                    },
                    schedule);
                for (std::size_t i = 0; i < n; ++i) REQUIRE(visits[i].load() == 1);
                if (n == 0) CHECK(calls.load() == 0);  // f is not called at all
            }
        }
    }
}

TEST_CASE("parallel_for chunks: the documented boundaries, chunk 0 on the caller's thread")
{
    CHECK(parallel_threads(0, 4) == 1);
    CHECK(parallel_threads(10, 0) == 1);
    CHECK(parallel_threads(3, 8) == 3);
    CHECK(parallel_threads(100, 8) == 8);
    CHECK(parallel_chunk(10, 4) == 3);
    CHECK(parallel_chunk(9, 4) == 3);
    CHECK(parallel_chunk(10, 3) == 4);
    CHECK(parallel_chunk(5, 8) == 1);

    // hand-written cases: 10 on 4 -> 3 3 3 1; 9 on 4 -> 3 3 3 (the fourth chunk is empty); 10 on 3 -> 4 4 2
    using Chunks = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(expected_chunks(10, 4) == Chunks{{0, 3}, {3, 6}, {6, 9}, {9, 10}});
    CHECK(expected_chunks(9, 4) == Chunks{{0, 3}, {3, 6}, {6, 9}});
    CHECK(expected_chunks(10, 3) == Chunks{{0, 4}, {4, 8}, {8, 10}});
    CHECK(expected_chunks(5, 8) == Chunks{{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}});
    CHECK(expected_chunks(7, 1) == Chunks{{0, 7}});

    const auto caller = std::this_thread::get_id();
    for (std::size_t n : sizes) {
        for (unsigned threads : thread_counts) {
            CAPTURE(n);
            CAPTURE(threads);
            const std::vector<Call> calls = calls_of(n, threads, Schedule::chunks);
            Chunks got;
            for (const Call& c : calls) got.emplace_back(c.begin, c.end);
            CHECK(got == expected_chunks(n, threads));
            std::set<std::thread::id> ids;
            for (const Call& c : calls) ids.insert(c.thread);
            CHECK(ids.size() == calls.size());  // one call per thread
            if (!calls.empty()) CHECK(calls.front().thread == caller);
        }
    }
}

TEST_CASE("parallel_for queue: one index per call, one thread runs f(0, n) inline")
{
    for (std::size_t n : sizes) {
        for (unsigned threads : thread_counts) {
            CAPTURE(n);
            CAPTURE(threads);
            const std::vector<Call> calls = calls_of(n, threads, Schedule::queue);
            if (n == 0) {
                CHECK(calls.empty());
            } else if (parallel_threads(n, threads) == 1) {
                REQUIRE(calls.size() == 1);
                CHECK(calls[0].begin == 0);
                CHECK(calls[0].end == n);
            } else {
                REQUIRE(calls.size() == n);
                for (std::size_t i = 0; i < n; ++i) {
                    CHECK(calls[i].begin == i);
                    CHECK(calls[i].end == i + 1);
                }
                std::set<std::thread::id> ids;
                for (const Call& c : calls) ids.insert(c.thread);
                CHECK(ids.size() <= parallel_threads(n, threads));
            }
        }
    }
}

TEST_CASE("parallel_for runs inline, spawning nothing, for one thread or n = 1")
{
    const auto caller = std::this_thread::get_id();
    for (Schedule schedule : {Schedule::chunks, Schedule::queue}) {
        for (auto [n, threads] : {std::pair<std::size_t, unsigned>{1000, 1}, {1000, 0}, {1, 8}}) {
            CAPTURE(n);
            CAPTURE(threads);
            const std::vector<Call> calls = calls_of(n, threads, schedule);
            REQUIRE(calls.size() == 1);
            CHECK(calls[0].begin == 0);
            CHECK(calls[0].end == n);
            CHECK(calls[0].thread == caller);
        }
        // an exception on the inline path propagates as it is, and nothing after it runs
        std::vector<int> seen;
        CHECK(test_support::message_of<std::invalid_argument>([&] {
                  parallel_for(
                      5, 1,
                      [&](std::size_t begin, std::size_t end) {
                          for (std::size_t i = begin; i < end; ++i) {
                              if (i == 2) throw std::invalid_argument("inline 2");
                              seen.push_back(static_cast<int>(i));
                          }
                      },
                      schedule);
              }) == "inline 2");
        CHECK(seen == std::vector<int>{0, 1});
    }
}

TEST_CASE("parallel_for chunks: an exception in one worker is rethrown after the others finish")
{
    for (std::size_t bad_chunk : {0u, 1u, 3u}) {  // the caller's chunk or a spawned thread's
        CAPTURE(bad_chunk);
        const std::size_t n = 40;
        const unsigned threads = 4;  // chunks of 10
        std::vector<std::atomic<int>> visits(n);
        for (auto& v : visits) v = 0;
        const std::string msg = test_support::message_of<std::runtime_error>([&] {
            parallel_for(n, threads, [&](std::size_t begin, std::size_t end) {
                for (std::size_t i = begin; i < end; ++i) {
                    if (begin / 10 == bad_chunk && i == begin + 4)
                        throw std::runtime_error("chunk " + std::to_string(bad_chunk));
                    // the good chunks take a while, so they are still running when the bad one throws
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                    ++visits[i];
                }
            });
        });
        CHECK(msg == "chunk " + std::to_string(bad_chunk));
        for (std::size_t i = 0; i < n; ++i) {
            CAPTURE(i);
            const bool in_bad = i / 10 == bad_chunk;
            CHECK(visits[i].load() == (in_bad && i >= bad_chunk * 10 + 4 ? 0 : 1));
        }
    }
}

TEST_CASE("parallel_for: the first exception wins")
{
    for (Schedule schedule : {Schedule::chunks, Schedule::queue}) {
        CAPTURE(static_cast<int>(schedule));
        // index 1 throws at once; index 0 waits until it has, then a long while more, and throws too
        std::atomic<bool> first_thrown{false};
        const std::string msg = test_support::message_of<std::runtime_error>([&] {
            parallel_for(
                2, 2,
                [&](std::size_t begin, std::size_t) {
                    if (begin == 1) {
                        first_thrown = true;
                        throw std::runtime_error("first");
                    }
                    while (!first_thrown.load()) std::this_thread::yield();
                    std::this_thread::sleep_for(std::chrono::milliseconds(300));
                    throw std::logic_error("second");
                },
                schedule);
        });
        CHECK(msg == "first");
    }
}

TEST_CASE("parallel_for queue: after an exception no new index is handed out")
{
    const std::size_t n = 200;
    std::vector<std::atomic<int>> visits(n);
    for (auto& v : visits) v = 0;
    const std::string msg = test_support::message_of<std::out_of_range>([&] {
        parallel_for(
            n, 2,
            [&](std::size_t begin, std::size_t end) {
                REQUIRE(end == begin + 1);
                ++visits[begin];
                if (begin == 5) throw std::out_of_range("index 5");
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            },
            Schedule::queue);
    });
    CHECK(msg == "index 5");
    std::size_t visited = 0;
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(visits[i].load() <= 1);
        visited += static_cast<std::size_t>(visits[i].load());
    }
    CHECK(visits[5].load() == 1);
    CHECK(visited < n);  // the queue stopped (two threads take at most a few more indices)
}

TEST_CASE("parallel_for: a reduction computed index by index does not depend on the thread count")
{
    // rows of a float matrix summed each in index order on whatever thread gets them, then
    // the row sums combined in row order: bit-identical for every thread count and schedule
    sleepnet::default_engine eng(7);
    const std::size_t rows = 333, cols = 97;
    const auto m = test_support::random_matrix(rows, cols, eng, -1.0, 1.0);
    std::vector<float> a(m.begin(), m.end());
    auto reduce = [&](unsigned threads, Schedule schedule) {
        std::vector<float> row_sum(rows, 0.0f);
        parallel_for(
            rows, threads,
            [&](std::size_t begin, std::size_t end) {
                for (std::size_t r = begin; r < end; ++r) {
                    float s = 0.0f;
                    for (std::size_t c = 0; c < cols; ++c) s += a[r * cols + c] * a[r * cols + (c * 7) % cols];
                    row_sum[r] = s;
                }
            },
            schedule);
        float total = 0.0f;
        for (float s : row_sum) total += s;
        row_sum.push_back(total);
        return row_sum;
    };
    const std::vector<float> reference = reduce(1, Schedule::chunks);
    for (Schedule schedule : {Schedule::chunks, Schedule::queue}) {
        for (unsigned threads : {0u, 2u, 3u, 5u, 8u, 64u, 1000u}) {
            CAPTURE(threads);
            const std::vector<float> got = reduce(threads, schedule);
            REQUIRE(got.size() == reference.size());
            CHECK(std::memcmp(got.data(), reference.data(), got.size() * sizeof(float)) == 0);
        }
    }
}
