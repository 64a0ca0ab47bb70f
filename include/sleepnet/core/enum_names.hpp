#pragma once
// Names of enum values, from one table per enum. Beside an enum E its header writes
//
//   template <> struct EnumNames<E> {
//       static constexpr const char* kind = "norm";                     // for messages
//       static constexpr EnumName<E> table[] = {{E::linf, "linf"}, {E::l2, "l2"}};
//   };
//
// and gets to_string(E) (the first name of the value) and enum_from_string<E>(s), which
// throws invalid_argument "unknown <kind> '<s>' (<name>, <name>, ...)" listing the first
// name of every value. A value may have further names (aliases, read but never written).

#include <cstddef>
#include <string>
#include <type_traits>

#include "error.hpp"

namespace sleepnet {

template <class E>
struct EnumName {
    E value;
    const char* name;
};

/// Specialised beside each enum (see above); the primary template has no table.
template <class E>
struct EnumNames;

namespace detail {

template <class E, class = void>
struct has_enum_names : std::false_type {
};

template <class E>
struct has_enum_names<E, std::void_t<decltype(EnumNames<E>::table)>> : std::true_type {
};

template <class E>
using if_enum_names = std::enable_if_t<has_enum_names<E>::value, int>;

template <class E>
inline bool is_first_name(std::size_t i)
{
    for (std::size_t k = 0; k < i; ++k)
        if (EnumNames<E>::table[k].value == EnumNames<E>::table[i].value) return false;
    return true;
}

}  // namespace detail

/// The first name of every value, in table order, separated by ", ".
template <class E, detail::if_enum_names<E> = 0>
inline std::string enum_names_list()
{
    std::string list;
    const std::size_t n = std::extent<decltype(EnumNames<E>::table)>::value;
    for (std::size_t i = 0; i < n; ++i)
        if (detail::is_first_name<E>(i)) list += (list.empty() ? "" : ", ") + std::string(EnumNames<E>::table[i].name);
    return list;
}

/// The (first) name of `value`; invalid_argument for a value outside the table.
template <class E, detail::if_enum_names<E> = 0>
inline std::string to_string(E value)
{
    for (const auto& entry : EnumNames<E>::table)
        if (entry.value == value) return entry.name;
    throw invalid_argument(std::string(EnumNames<E>::kind) + ": no name for value " +
                           std::to_string(static_cast<long long>(value)));
}

/// The value named `name` (any of its names); invalid_argument naming the kind, the name
/// and the accepted names otherwise.
template <class E, detail::if_enum_names<E> = 0>
inline E enum_from_string(const std::string& name)
{
    for (const auto& entry : EnumNames<E>::table)
        if (name == entry.name) return entry.value;
    throw invalid_argument("unknown " + std::string(EnumNames<E>::kind) + " '" + name + "' (" + enum_names_list<E>() +
                           ")");
}

}  // namespace sleepnet
