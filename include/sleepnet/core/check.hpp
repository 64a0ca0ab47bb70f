#pragma once
// Checks of option fields for validate() functions. Each throws invalid_argument with the
// message "<who>: <field> must be ..." that the library's options share, so the wording is
// the same everywhere: values print with std::to_string, an optional note is appended
// after a space (e.g. "(0 = default)"). NaN fails every check.

#include <cmath>
#include <cstddef>
#include <locale>
#include <sstream>
#include <string>
#include <type_traits>

#include "error.hpp"

namespace sleepnet {
namespace detail {

inline std::string check_note(const std::string& note) { return note.empty() ? note : " " + note; }

// Interval bounds as written in code: "0", "1", "100", "0.5" (not std::to_string's "1.000000").
inline std::string check_bound(double v)
{
    std::ostringstream s;
    s.imbue(std::locale::classic());
    s << v;
    return s.str();
}

}  // namespace detail

namespace check {

/// Which ends belong to the interval of in_range(): open (lo, hi), closed [lo, hi],
/// open_closed (lo, hi], closed_open [lo, hi).
enum class Interval { open, closed, open_closed, closed_open };

/// Throws "who: field must be > 0" unless value > 0 (a count or any number; NaN fails, inf passes).
template <class N>
inline void positive(const std::string& who, const std::string& field, N value)
{
    static_assert(std::is_arithmetic_v<N>, "check::positive takes a number");
    if (!(value > N(0))) throw invalid_argument(who + ": " + field + " must be > 0");
}

/// Throws "who: field must be >= min, got count" unless count >= min.
inline void at_least(const std::string& who, const std::string& field, std::size_t count, std::size_t min)
{
    if (count < min) {
        throw invalid_argument(who + ": " + field + " must be >= " + std::to_string(min) + ", got " +
                               std::to_string(count));
    }
}

/// Throws "who: field must be finite and > 0, got V[ note]" unless 0 < value < inf.
inline void finite_positive(const std::string& who, const std::string& field, double value,
                            const std::string& note = "")
{
    if (!(value > 0.0) || !std::isfinite(value)) {
        throw invalid_argument(who + ": " + field + " must be finite and > 0, got " + std::to_string(value) +
                               detail::check_note(note));
    }
}

/// Throws "who: field must be finite and >= 0, got V[ note]" unless 0 <= value < inf.
inline void finite_nonnegative(const std::string& who, const std::string& field, double value,
                               const std::string& note = "")
{
    if (!(value >= 0.0) || !std::isfinite(value)) {
        throw invalid_argument(who + ": " + field + " must be finite and >= 0, got " + std::to_string(value) +
                               detail::check_note(note));
    }
}

/// Throws "who: field must be in (lo, hi], got V[ note]" (brackets from `ends`) unless
/// value lies in the interval.
inline void in_range(const std::string& who, const std::string& field, double value, double lo, double hi,
                     Interval ends, const std::string& note = "")
{
    const bool open_lo = ends == Interval::open || ends == Interval::open_closed;
    const bool open_hi = ends == Interval::open || ends == Interval::closed_open;
    const bool inside = (open_lo ? value > lo : value >= lo) && (open_hi ? value < hi : value <= hi);
    if (!inside) {
        throw invalid_argument(who + ": " + field + " must be in " + (open_lo ? "(" : "[") + detail::check_bound(lo) +
                               ", " + detail::check_bound(hi) + (open_hi ? ")" : "]") + ", got " +
                               std::to_string(value) + detail::check_note(note));
    }
}

}  // namespace check
}  // namespace sleepnet
