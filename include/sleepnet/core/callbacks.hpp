#pragma once
// Compile-time detected callbacks (in the manner of ensmallen): a callback is any object
// with some of the hook member functions a routine documents, e.g.
//
//   struct Stopper { bool on_end_epoch(const sleepnet::TrainInfo& info) { return info.epoch == 3; } };
//
// A hook may return void or bool; returning true asks the routine to stop early.
// Hooks a callback does not define are simply not called.

#include <tuple>
#include <type_traits>
#include <utility>

namespace sleepnet {
namespace detail {

template <class R>
inline bool hook_result(R&& r)
{
    return static_cast<bool>(r);
}

// Defines detail::call_<hook>(callback, args...) -> bool (false when absent or void).
#define SLEEPNET_DEFINE_HOOK(hook)                                                                                     \
    template <class C, class... A>                                                                                     \
    inline auto call_##hook##_impl(C& c, int, A&&... a)->decltype(c.hook(std::forward<A>(a)...), bool())               \
    {                                                                                                                  \
        if constexpr (std::is_void<decltype(c.hook(std::forward<A>(a)...))>::value) {                                  \
            c.hook(std::forward<A>(a)...);                                                                             \
            return false;                                                                                              \
        } else {                                                                                                       \
            return hook_result(c.hook(std::forward<A>(a)...));                                                         \
        }                                                                                                              \
    }                                                                                                                  \
    template <class C, class... A>                                                                                     \
    inline bool call_##hook##_impl(C&, long, A&&...)                                                                   \
    {                                                                                                                  \
        return false;                                                                                                  \
    }                                                                                                                  \
    template <class... C, class... A>                                                                                  \
    inline bool call_##hook(std::tuple<C...>& callbacks, const A&... a)                                                \
    {                                                                                                                  \
        bool stop = false;                                                                                             \
        std::apply([&](auto&... c) { ((stop = call_##hook##_impl(c, 0, a...) || stop), ...); }, callbacks);            \
        return stop;                                                                                                   \
    }

SLEEPNET_DEFINE_HOOK(on_begin)
SLEEPNET_DEFINE_HOOK(on_end)
SLEEPNET_DEFINE_HOOK(on_begin_epoch)
SLEEPNET_DEFINE_HOOK(on_end_epoch)
SLEEPNET_DEFINE_HOOK(on_batch)
SLEEPNET_DEFINE_HOOK(on_step)
SLEEPNET_DEFINE_HOOK(on_progress)

#undef SLEEPNET_DEFINE_HOOK

}  // namespace detail
}  // namespace sleepnet
