#pragma once
// Exception types thrown by sleepnet. Every message names the argument, file or value
// that was wrong, so a caller can report it as it is.

#include <stdexcept>
#include <string>

namespace sleepnet {

/// Base of every exception sleepnet throws.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A parameter, shape or option is out of range or inconsistent.
class invalid_argument : public error {
public:
    using error::error;
};

/// A file could not be opened, read or written.
class io_error : public error {
public:
    using error::error;
};

/// A file was opened but its content is malformed, truncated or inconsistent.
class format_error : public error {
public:
    using error::error;
};

/// A file's header states a tensor larger than the caller allows (ReadLimits,
/// core/read_limits.hpp); a format_error, so callers catching those catch it too.
class limit_error : public format_error {
public:
    using format_error::format_error;
};

/// A computation produced or was given non-finite values.
class numeric_error : public error {
public:
    using error::error;
};

namespace detail {

template <class Error = invalid_argument>
inline void require(bool condition, const std::string& message)
{
    if (!condition) {
        throw Error(message);
    }
}

}  // namespace detail
}  // namespace sleepnet
