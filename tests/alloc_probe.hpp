#pragma once
// Records the largest single allocation made through operator new while a probe is active
// (std::vector, std::string and xtensor's default allocator all go through it): a test
// shows that a reader refuses a header claiming a huge shape before it allocates for it.
// Include it in one test program only: it replaces the global operator new and delete.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace alloc_probe {

inline std::atomic<bool> active{false};
inline std::atomic<std::size_t> largest{0};

/// While alive, records the largest allocation (read it with max()).
class scope {
public:
    scope()
    {
        largest = 0;
        active = true;
    }
    ~scope() { active = false; }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;
    std::size_t max() const { return largest.load(); }
};

}  // namespace alloc_probe

// GCC flags free() on what the replaced operator new returned, which is malloc's: fine here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n)
{
    if (alloc_probe::active.load(std::memory_order_relaxed)) {
        std::size_t seen = alloc_probe::largest.load();
        while (n > seen && !alloc_probe::largest.compare_exchange_weak(seen, n)) {
        }
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
