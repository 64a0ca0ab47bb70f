#pragma once
// What the JSON adapters (the *_json.hpp headers beside the algorithm headers) share:
// numbers that may be infinite, the strict unknown-key check and typed field readers.
// Readers overlay: a key that is absent leaves the target as it is; a key that is not
// known, a value of the wrong type or an unknown enum name is an error naming the object
// kind ("who") and the key, never a silent fallback.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "enum_names.hpp"
#include "error.hpp"

namespace sleepnet {

/// JSON numbers cannot be infinite: +inf and NaN are written as null.
inline nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

namespace detail {

/// Error "<who>: expected a JSON object" unless j is one, "<who>: unknown key '<k>'" for
/// the first key of j not in `known` (a typo must not silently fall back to a default).
template <class Error = invalid_argument>
inline void json_check_keys(const nlohmann::json& j, std::initializer_list<const char*> known, const std::string& who)
{
    if (!j.is_object()) throw Error(who + ": expected a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : known) ok = ok || it.key() == k;
        if (!ok) throw Error(who + ": unknown key '" + it.key() + "'");
    }
}

/// v as the integer type V: Error "<who>: key '<key>' must be an integer ..." when v is a
/// fraction or another type, "... must be a non-negative integer ..." for a negative value
/// and an unsigned V, "... is out of range ..." when V cannot hold it (a float such as 1e30
/// is refused, never converted: that conversion is undefined behaviour).
template <class V, class Error = invalid_argument>
inline V json_integer(const nlohmann::json& v, const char* key, const std::string& who)
{
    static_assert(std::is_integral_v<V> && !std::is_same_v<V, bool>);
    const std::string at = who + ": key '" + key + "' ";
    if (!v.is_number_integer())
        throw Error(at + "must be " + (std::is_unsigned_v<V> ? "a non-negative " : "an ") + "integer (got " + v.dump() +
                    ")");
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<V>::max()))
            throw Error(at + "is out of range (" + v.dump() + ")");
        return static_cast<V>(u);
    }
    const auto s = v.get<std::int64_t>();
    if (std::is_unsigned_v<V> && s < 0) throw Error(at + "must be a non-negative integer (got " + v.dump() + ")");
    if (!std::is_unsigned_v<V> && (s < static_cast<std::int64_t>(std::numeric_limits<V>::min()) ||
                                   s > static_cast<std::int64_t>(std::numeric_limits<V>::max())))
        throw Error(at + "is out of range (" + v.dump() + ")");
    return static_cast<V>(s);
}

/// An array of integers of type V, each checked as json_integer does (errors name `key`);
/// Error "<who>: key '<key>' must be an array ..." for anything else.
template <class V, class Error = invalid_argument>
inline std::vector<V> json_integers(const nlohmann::json& v, const char* key, const std::string& who)
{
    if (!v.is_array()) throw Error(who + ": key '" + key + "' must be an array of integers (got " + v.dump() + ")");
    std::vector<V> out;
    out.reserve(v.size());
    for (const auto& e : v) out.push_back(json_integer<V, Error>(e, key, who));
    return out;
}

template <class V>
struct is_integer_vector : std::false_type {
};
template <class V, class A>
struct is_integer_vector<std::vector<V, A>> : std::bool_constant<std::is_integral_v<V> && !std::is_same_v<V, bool>> {
};

/// into = j[key] if j has the key; Error "<who>: key '<key>' has the wrong type (<value>)"
/// if the value does not convert to V. Integers and vectors of integers go through
/// json_integer (kind and range).
template <class V, class Error = invalid_argument>
inline void json_read(const nlohmann::json& j, const char* key, V& into, const std::string& who)
{
    if (!j.contains(key)) return;
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
        into = json_integer<V, Error>(j.at(key), key, who);
    } else if constexpr (is_integer_vector<V>::value) {
        const auto v = json_integers<typename V::value_type, Error>(j.at(key), key, who);
        into.assign(v.begin(), v.end());
    } else {
        try {
            into = j.at(key).get<V>();
        } catch (const nlohmann::json::exception&) {
            throw Error(who + ": key '" + key + "' has the wrong type (" + j.at(key).dump() + ")");
        }
    }
}

/// j[key] if j has the key, else `fallback` (errors as json_read).
template <class V, class Error = invalid_argument>
inline V json_get(const nlohmann::json& j, const char* key, V fallback, const std::string& who)
{
    json_read<V, Error>(j, key, fallback, who);
    return fallback;
}

/// An enum stored by name (core/enum_names.hpp); an unknown name is Error "<who>: unknown
/// <kind> '<name>' (<names>)".
template <class E, class Error = invalid_argument>
inline void json_read_enum(const nlohmann::json& j, const char* key, E& into, const std::string& who)
{
    if (!j.contains(key)) return;
    const std::string name = json_get<std::string, Error>(j, key, "", who);
    try {
        into = enum_from_string<E>(name);
    } catch (const invalid_argument& e) {
        throw Error(who + ": " + e.what());
    }
}

/// The text of file `path`: io_error "cannot open <what> '<path>'" when it cannot be opened.
inline std::string read_text_file(const std::string& path, const std::string& what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error("cannot open " + what + " '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The JSON document in `text` (read as a stream: what follows the first value is ignored);
/// format_error "<name>: not valid JSON (...)" when it does not parse.
inline nlohmann::json parse_json_text(const std::string& text, const std::string& name)
{
    std::istringstream in(text);
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw format_error(name + ": not valid JSON (" + e.what() + ")");
    }
    return j;
}

/// The JSON document in file `path`: io_error "cannot open <what> '<path>'" when it cannot
/// be opened, format_error "<path>: not valid JSON (...)" when it does not parse.
inline nlohmann::json read_json_file(const std::string& path, const std::string& what)
{
    return parse_json_text(read_text_file(path, what), path);
}

}  // namespace detail
}  // namespace sleepnet
