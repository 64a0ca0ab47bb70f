#pragma once
// Strict numbers on the command line of the example programs (issue 17): CLI11 converts
// "-1" to an unsigned option as 2^64 - 1 and accepts "nan" for a floating-point one, which
// turned `--epochs -1` into an endless run and `--dropout nan` into a silent default.
// strict_numbers(app) checks every option of app by its value type:
//   unsigned ("UINT")  digits only (an optional leading '+'), at most 2^64 - 1; the
//                      option's own type may be narrower (CLI11 then refuses the value)
//   floating ("FLOAT") a finite number (no nan, inf)
// Call it after the options are added. Options where 0 makes no sense add
// positive_count() themselves.

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

namespace examples {

inline CLI::Validator unsigned_count()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            const std::size_t start = !s.empty() && s[0] == '+' ? 1 : 0;
            if (start == s.size() || s.find_first_not_of("0123456789", start) != std::string::npos)
                return "expected a non-negative whole number, got '" + s + "'";
            errno = 0;
            (void)std::strtoull(s.c_str() + start, nullptr, 10);
            if (errno == ERANGE) return "'" + s + "' is too large";
            return {};
        },
        "", "unsigned count");
}

/// A count where 0 makes no sense: a whole number >= 1.
inline CLI::Validator positive_count()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            const std::size_t start = !s.empty() && s[0] == '+' ? 1 : 0;
            if (start == s.size() || s.find_first_not_of("0123456789", start) != std::string::npos ||
                s.find_first_not_of('0', start) == std::string::npos)
                return "expected a positive whole number, got '" + s + "'";
            return {};
        },
        "", "positive count");
}

inline CLI::Validator finite_number()
{
    return CLI::Validator(
        [](std::string& s) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (end == s.c_str() || *end != '\0') return "expected a number, got '" + s + "'";
            if (!std::isfinite(v)) return "expected a finite number, got '" + s + "'";
            return {};
        },
        "", "finite number");
}

/// Adds unsigned_count() to every unsigned option of app and finite_number() to every
/// floating-point one (also their vector forms), in app and its subcommands.
inline void strict_numbers(CLI::App& app)
{
    for (CLI::Option* o : app.get_options()) {
        const std::string type = o->get_type_name();
        if (type.rfind("UINT", 0) == 0) o->check(unsigned_count());
        if (type.rfind("FLOAT", 0) == 0) o->check(finite_number());
    }
    for (CLI::App* sub : app.get_subcommands({})) strict_numbers(*sub);
}

}  // namespace examples
