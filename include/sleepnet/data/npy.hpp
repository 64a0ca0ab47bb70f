#pragma once
// Safe .npy reading and writing on top of xtensor's own npy support (<xtensor/xnpy.hpp>).
//
// xtensor's loader trusts the file: it reads past a truncated header or data block and
// indexes empty strings. Here the preamble (magic, version, header length) is read and
// checked first, the header dictionary is parsed by xt::detail::parse_header only once it
// is known to be complete and well delimited, the dtype is validated, and the data size
// must equal product(shape) * itemsize exactly (no truncation, no trailing bytes).
//
// Accepted dtypes (little-endian or byte-order free): <f4 <f8 |b1 |u1 |i1 <i2 <i4 <i8
// <u2 <u4 <u8. One-byte types may carry '|', '<' or '='. Big-endian files are rejected.
// npy::load converts any of them to the requested element type, refusing values that do
// not fit (a negative label into an unsigned type, a fraction into an integer, ...).
//
// The readers take a file or the bytes of one in memory (read_header_memory, load_memory:
// the same code and messages). Every error is a sleepnet exception whose message names the
// file:
//   io_error     - missing / unreadable file, failed write
//   format_error - bad magic, unsupported version or dtype, malformed or truncated
//                  header, data size mismatch, wrong number of dimensions, bad values
//   limit_error  - more elements than ReadLimits::max_elements (core/read_limits.hpp)

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <xtensor/xnpy.hpp>
#include <xtensor/xtensor.hpp>
#include <xtl/xplatform.hpp>

#include "sleepnet/core/atomic_file.hpp"
#include "sleepnet/core/error.hpp"
#include "sleepnet/core/memory_stream.hpp"
#include "sleepnet/core/read_limits.hpp"
#include "sleepnet/core/tensor.hpp"

namespace sleepnet {
namespace npy {

/// What the header of an .npy file says, validated.
struct Header {
    std::string descr;               ///< normalised dtype string, e.g. "<f4", "|u1", "|b1"
    bool fortran_order = false;      ///< data stored column-major
    std::vector<std::size_t> shape;  ///< logical shape
    std::size_t data_offset = 0;     ///< byte offset of the data block in the file
    std::size_t itemsize = 0;        ///< bytes per element
    char kind = 0;                   ///< 'f' float, 'i' signed, 'u' unsigned, 'b' bool

    /// Number of elements (product of shape; checked against overflow when read).
    std::size_t size() const
    {
        std::size_t n = 1;
        for (std::size_t d : shape) {
            n *= d;
        }
        return n;
    }
};

namespace detail {

inline const char* accepted_dtypes() { return "<f4, <f8, |b1, |u1, |i1, <i2, <i4, <i8, <u2, <u4, <u8"; }

inline void require_little_endian_host(const std::string& path)
{
    if (xtl::endianness() != xtl::endian::little_endian) {
        throw io_error("npy file '" + path + "': sleepnet's npy I/O needs a little-endian machine");
    }
}

/// Opens `path` for binary reading and returns its size; io_error when it is missing,
/// not a regular file or cannot be opened.
inline std::uintmax_t open_for_reading(const std::string& path, std::ifstream& in, const char* what)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
        throw io_error(std::string(what) + " '" + path + "' does not exist");
    }
    if (!fs::is_regular_file(st)) {
        throw io_error(std::string(what) + " '" + path + "' is not a regular file");
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) {
        throw io_error(std::string(what) + " '" + path + "': cannot get its size (" + ec.message() + ")");
    }
    in.open(path, std::ios::binary);
    if (!in) {
        throw io_error(std::string(what) + " '" + path + "' cannot be opened for reading");
    }
    return size;
}

inline void read_exactly(std::istream& in, char* dst, std::size_t n, const std::string& path)
{
    in.read(dst, static_cast<std::streamsize>(n));
    if (!in || static_cast<std::size_t>(in.gcount()) != n) {
        throw io_error("npy file '" + path + "': read error (file changed or unreadable while reading)");
    }
}

/// Checks the descr of the space-free header s (of raw) is simple; a one-byte '=' becomes '|' in s.
inline void precheck_descr(std::string& s, const std::string& raw, const std::string& path)
{
    const std::string descr_key = "'descr':";
    const std::size_t d = s.find(descr_key);
    if (d == std::string::npos) {
        throw format_error("npy file '" + path + "': malformed header (missing 'descr' key): " + raw);
    }
    const std::size_t at = d + descr_key.size() + 1;  // first character inside the quotes
    const std::size_t end = at <= s.size() ? s.find('\'', at) : std::string::npos;
    if (s[at - 1] != '\'' || end == std::string::npos) {
        throw format_error("npy file '" + path + "': unsupported dtype (structured or non-string descr; accepted: " +
                           accepted_dtypes() + ")");
    }
    const std::string descr = s.substr(at, end - at);
    const bool simple = descr.size() >= 3 && std::string("<>|=").find(descr[0]) != std::string::npos &&
                        std::string("fiub").find(descr[1]) != std::string::npos &&
                        std::all_of(descr.begin() + 2, descr.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!simple) {
        throw format_error("npy file '" + path + "': unsupported dtype '" + descr +
                           "' (accepted: " + accepted_dtypes() + ")");
    }
    if (descr[0] == '=') {
        if (descr.size() != 3 || descr[2] != '1') {
            throw format_error("npy file '" + path + "': dtype '" + descr +
                               "' uses native byte order '='; only one-byte types may (accepted: " + accepted_dtypes() +
                               ")");
        }
        s[at] = '|';  // byte order is meaningless for one byte; xtensor does not know '='
    }
}

/// Guards the conditions xt::detail::parse_header assumes without checking (non-empty
/// strings around the braces and the shape tuple) and normalises a '=' byte order on a
/// one-byte dtype to '|'. Returns the header with spaces removed, ready for parse_header.
inline std::string precheck_header_dict(const std::string& raw, const std::string& path)
{
    auto bad = [&](const std::string& why) {
        return format_error("npy file '" + path + "': malformed header (" + why + "): " + raw);
    };
    std::string s;
    s.reserve(raw.size());
    for (char c : raw) {
        if (c != ' ' && c != '\n') {
            s += c;
        }
    }
    if (s.size() < 2 || s.front() != '{' || s.back() != '}') {
        throw bad("not a dictionary literal");
    }
    const std::string shape_key = "'shape':";
    const std::size_t k = s.find(shape_key);
    if (k == std::string::npos) {
        throw bad("missing 'shape' key");
    }
    const std::size_t open = k + shape_key.size();
    if (open >= s.size() || s[open] != '(') {
        throw bad("'shape' is not a tuple");
    }
    const std::size_t close = s.find(')', open);
    if (close == std::string::npos) {
        throw bad("'shape' tuple is not closed");
    }
    for (std::size_t i = open + 1; i < close; ++i) {
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == ',')) {
            throw bad("'shape' holds something other than non-negative integers");
        }
        if (s[i] == ',' && (s[i - 1] == ',' || s[i - 1] == '(')) {
            throw bad("'shape' has an empty entry");
        }
    }
    precheck_descr(s, raw, path);
    return s + "\n";
}

/// Validates a descr from parse_header; fills kind, itemsize and the normalised descr.
inline void validate_descr(Header& h, const std::string& path)
{
    const std::string& d = h.descr;
    if (d.size() >= 2 && d[0] == '>') {
        throw format_error("npy file '" + path + "': big-endian dtype '" + d +
                           "' is not supported; save it little-endian (numpy: a.astype('<" + d.substr(1) + "'))");
    }
    static const std::array<const char*, 11> accepted = {"<f4", "<f8", "|b1", "|u1", "|i1", "<i2",
                                                         "<i4", "<i8", "<u2", "<u4", "<u8"};
    std::string norm = d;
    if (d.size() == 3 && d[2] == '1' && (d[0] == '<' || d[0] == '|' || d[0] == '=')) {
        norm[0] = '|';
    }
    const bool ok =
        std::find_if(accepted.begin(), accepted.end(), [&](const char* a) { return norm == a; }) != accepted.end();
    if (!ok) {
        throw format_error("npy file '" + path + "': unsupported dtype '" + d + "' (accepted: " + accepted_dtypes() +
                           ")");
    }
    h.descr = norm;
    h.kind = norm[1];
    h.itemsize = static_cast<std::size_t>(norm[2] - '0');
}

/// Throws for a file too short for the magic and version: bad magic or truncated header.
[[noreturn]] inline void reject_short_file(std::istream& in, std::uintmax_t file_size, const std::string& path,
                                           const std::string& where)
{
    std::string start(static_cast<std::size_t>(file_size), '\0');
    if (file_size > 0) {
        read_exactly(in, &start[0], start.size(), path);
    }
    if (start.compare(0, start.size(), xt::detail::magic_string, start.size()) != 0) {
        throw format_error(where + ": bad magic (not an npy file)");
    }
    throw format_error(where + ": truncated header (file has only " + std::to_string(file_size) + " bytes)");
}

/// Reads and checks the magic and the version; returns the size of the header length field.
inline std::size_t read_magic_and_version(std::istream& in, const std::string& path, const std::string& where)
{
    const std::size_t magic_len = xt::detail::magic_string_length;  // "\x93NUMPY"
    char pre[8];
    read_exactly(in, pre, 8, path);
    if (std::memcmp(pre, xt::detail::magic_string, magic_len) != 0) {
        throw format_error(where + ": bad magic (not an npy file; expected \\x93NUMPY)");
    }
    const auto major = static_cast<unsigned char>(pre[6]);
    const auto minor = static_cast<unsigned char>(pre[7]);
    if (major < 1 || major > 3 || minor != 0) {
        throw format_error(where + ": unsupported npy format version " + std::to_string(major) + "." +
                           std::to_string(minor) + " (accepted: 1.0, 2.0, 3.0)");
    }
    return major == 1 ? 2 : 4;
}

/// Reads the little-endian header length field; checks it is non-zero and fits the file.
inline std::size_t read_header_length(std::istream& in, std::size_t len_bytes, std::uintmax_t file_size,
                                      const std::string& path, const std::string& where)
{
    const std::size_t preamble = 8 + len_bytes;
    if (file_size < preamble) {
        throw format_error(where + ": truncated header (no complete header length field)");
    }
    unsigned char lenb[4] = {0, 0, 0, 0};
    read_exactly(in, reinterpret_cast<char*>(lenb), len_bytes, path);
    std::size_t header_len = 0;
    for (std::size_t i = 0; i < len_bytes; ++i) {
        header_len |= static_cast<std::size_t>(lenb[i]) << (8 * i);
    }
    if (header_len == 0) {
        throw format_error(where + ": empty header");
    }
    if (header_len > file_size - preamble) {
        throw format_error(where + ": truncated header (header length field says " + std::to_string(header_len) +
                           " bytes, only " + std::to_string(file_size - preamble) + " follow)");
    }
    return header_len;
}

/// Reads the header dictionary (header_len bytes) and parses it into a validated Header.
inline Header read_header_dict(std::istream& in, std::size_t header_len, const std::string& path,
                               const std::string& where)
{
    std::string raw(header_len, '\0');
    read_exactly(in, &raw[0], header_len, path);
    if (raw.back() != '\n') {
        throw format_error(where + ": malformed header (does not end with a newline)");
    }
    Header h;
    const std::string checked = precheck_header_dict(raw, path);
    try {
        xt::detail::parse_header(checked, h.descr, &h.fortran_order, h.shape);
    } catch (const std::exception& e) {
        throw format_error(where + ": malformed header (" + e.what() + "): " + raw);
    }
    validate_descr(h, path);
    return h;
}

/// Bytes of the data block h describes; format_error when its element or byte count overflows.
inline std::size_t data_bytes(const Header& h, const std::string& where)
{
    // the product of the non-zero dimensions must fit xtensor's signed strides even when a
    // zero dimension makes the array empty (a (0, 2^40, 2^30) array overflows them)
    std::size_t nonzero = 1;
    bool empty = false;
    for (std::size_t dim : h.shape) {
        if (dim == 0) {
            empty = true;
            continue;
        }
        if (nonzero > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / dim) {
            throw format_error(where + ": shape " + sleepnet::detail::shape_string(h.shape) +
                               " overflows the element count");
        }
        nonzero *= dim;
    }
    const std::size_t count = empty ? 0 : nonzero;
    if (count > std::numeric_limits<std::size_t>::max() / h.itemsize) {
        throw format_error(where + ": shape " + sleepnet::detail::shape_string(h.shape) + " overflows the byte count");
    }
    return count * h.itemsize;
}

/// Reads and validates the header of an open stream positioned at the file start.
inline Header read_header_stream(std::istream& in, std::uintmax_t file_size, const std::string& path)
{
    const std::string where = "npy file '" + path + "'";
    if (file_size < xt::detail::magic_string_length + 2) {
        reject_short_file(in, file_size, path, where);
    }
    const std::size_t len_bytes = read_magic_and_version(in, path, where);
    const std::size_t header_len = read_header_length(in, len_bytes, file_size, path, where);
    Header h = read_header_dict(in, header_len, path, where);
    const std::size_t expected = data_bytes(h, where);
    h.data_offset = 8 + len_bytes + header_len;
    const std::uintmax_t actual = file_size - h.data_offset;
    if (actual != expected) {
        throw format_error(where + ": " + (actual < expected ? "truncated data" : "trailing data") + ": shape " +
                           sleepnet::detail::shape_string(h.shape) + " of '" + h.descr + "' needs " +
                           std::to_string(expected) + " bytes, file has " + std::to_string(actual) +
                           " bytes after the header");
    }
    return h;
}

template <class T>
inline std::string type_name()
{
    if (std::is_same<T, bool>::value) {
        return "bool";
    }
    if (std::is_floating_point<T>::value) {
        return "float" + std::to_string(8 * sizeof(T));
    }
    return std::string(std::is_signed<T>::value ? "int" : "uint") + std::to_string(8 * sizeof(T));
}

/// Converts one value, returning false when it cannot be represented in T: out of
/// range, a fraction or non-finite into an integer, a finite value that overflows a
/// narrower float, anything but 0 or 1 into bool.
template <class T, class S>
inline bool convert_value(S v, T& out)
{
    if constexpr (std::is_same<T, bool>::value) {
        if (v == S(0) || v == S(1)) {
            out = v == S(1);
            return true;
        }
        return false;
    } else if constexpr (std::is_floating_point<T>::value) {
        out = static_cast<T>(v);
        if constexpr (std::is_floating_point<S>::value) {
            return !(std::isfinite(v) && !std::isfinite(out));
        }
        return true;
    } else if constexpr (std::is_same<S, bool>::value) {
        out = v ? T(1) : T(0);
        return true;
    } else if constexpr (std::is_floating_point<S>::value) {
        const double x = static_cast<double>(v);
        if (!std::isfinite(x) || std::trunc(x) != x) {
            return false;
        }
        const double hi = std::ldexp(1.0, std::numeric_limits<T>::digits);  // exactly 2^digits
        const double lo = std::is_signed<T>::value ? -hi : 0.0;
        if (x < lo || x >= hi) {
            return false;
        }
        out = static_cast<T>(x);
        return true;
    } else {
        if constexpr (std::is_signed<S>::value) {
            if (v < 0) {
                if constexpr (!std::is_signed<T>::value) {
                    return false;
                } else {
                    if (static_cast<std::intmax_t>(v) < static_cast<std::intmax_t>(std::numeric_limits<T>::min())) {
                        return false;
                    }
                    out = static_cast<T>(v);
                    return true;
                }
            }
        }
        if (static_cast<std::uintmax_t>(v) > static_cast<std::uintmax_t>(std::numeric_limits<T>::max())) {
            return false;
        }
        out = static_cast<T>(v);
        return true;
    }
}

template <class S>
inline std::string value_string(S v)
{
    if constexpr (std::is_floating_point<S>::value) {
        std::ostringstream os;
        os.precision(17);
        os << v;
        return os.str();
    } else if constexpr (std::is_same<S, bool>::value) {
        return v ? "True" : "False";
    } else {
        return std::to_string(v);
    }
}

/// Reads `count` elements stored as S (little-endian) from `in` into `dst`, converting.
template <class T, class S>
inline void read_convert(std::istream& in, T* dst, std::size_t count, const std::string& path)
{
    if constexpr (std::is_same<T, S>::value && !std::is_same<T, bool>::value) {
        read_exactly(in, reinterpret_cast<char*>(dst), count * sizeof(T), path);
    } else {
        constexpr std::size_t chunk = 1u << 14;
        std::vector<char> buf(chunk * sizeof(S));
        for (std::size_t done = 0; done < count;) {
            const std::size_t n = std::min(chunk, count - done);
            read_exactly(in, buf.data(), n * sizeof(S), path);
            for (std::size_t i = 0; i < n; ++i) {
                S v;
                if constexpr (std::is_same<S, bool>::value) {
                    v = buf[i] != 0;
                } else {
                    std::memcpy(&v, buf.data() + i * sizeof(S), sizeof(S));
                }
                if (!convert_value<T, S>(v, dst[done + i])) {
                    throw format_error("npy file '" + path + "': element " + std::to_string(done + i) + " has value " +
                                       value_string(v) + ", which does not fit " + type_name<T>());
                }
            }
            done += n;
        }
    }
}

template <class T>
inline void read_data(std::istream& in, const Header& h, T* dst, const std::string& path)
{
    const std::size_t n = h.size();
    switch (h.kind) {
    case 'f':
        if (h.itemsize == 4) {
            return read_convert<T, float>(in, dst, n, path);
        }
        return read_convert<T, double>(in, dst, n, path);
    case 'b':
        return read_convert<T, bool>(in, dst, n, path);
    case 'i':
        switch (h.itemsize) {
        case 1:
            return read_convert<T, std::int8_t>(in, dst, n, path);
        case 2:
            return read_convert<T, std::int16_t>(in, dst, n, path);
        case 4:
            return read_convert<T, std::int32_t>(in, dst, n, path);
        default:
            return read_convert<T, std::int64_t>(in, dst, n, path);
        }
    default:  // 'u'
        switch (h.itemsize) {
        case 1:
            return read_convert<T, std::uint8_t>(in, dst, n, path);
        case 2:
            return read_convert<T, std::uint16_t>(in, dst, n, path);
        case 4:
            return read_convert<T, std::uint32_t>(in, dst, n, path);
        default:
            return read_convert<T, std::uint64_t>(in, dst, n, path);
        }
    }
}

template <class V>
struct is_npy_value
    : std::integral_constant<bool, std::is_same<V, float>::value || std::is_same<V, double>::value ||
                                       std::is_same<V, bool>::value ||
                                       (std::is_integral<V>::value && !std::is_same<V, wchar_t>::value &&
                                        !std::is_same<V, char16_t>::value && !std::is_same<V, char32_t>::value &&
                                        (sizeof(V) == 1 || sizeof(V) == 2 || sizeof(V) == 4 || sizeof(V) == 8))> {
};

}  // namespace detail

namespace detail {

/// Loads the array of an open stream of `size` bytes positioned at its start (npy::load).
template <class T, std::size_t N>
inline xt::xtensor<T, N> load_stream(std::istream& in, std::uintmax_t size, const std::string& path,
                                     const ReadLimits& limits)
{
    static_assert(std::is_arithmetic<T>::value, "npy::load needs an arithmetic element type");
    require_little_endian_host(path);
    const Header h = read_header_stream(in, size, path);
    if (h.shape.size() != N) {
        throw format_error("npy file '" + path + "': expected an array with " + std::to_string(N) +
                           " dimension(s), file has shape " + sleepnet::detail::shape_string(h.shape));
    }
    sleepnet::detail::check_element_cap(h.size(), h.shape, limits, "npy file '" + path + "'");
    std::array<std::size_t, N> shape{};
    if constexpr (N > 0) std::copy(h.shape.begin(), h.shape.end(), shape.begin());

    if (h.fortran_order && N > 1) {
        xt::xtensor<T, N, xt::layout_type::column_major> column_major(shape);
        read_data(in, h, column_major.data(), path);
        xt::xtensor<T, N> result = column_major;
        return result;
    }
    xt::xtensor<T, N> result(shape);
    read_data(in, h, result.data(), path);
    return result;
}

}  // namespace detail

/// Reads and validates the header of `path` (including the exact data size).
inline Header read_header(const std::string& path)
{
    std::ifstream in;
    const std::uintmax_t size = detail::open_for_reading(path, in, "npy file");
    return detail::read_header_stream(in, size, path);
}

/// read_header on the `size` bytes of an .npy file at `data`; errors name `name` where
/// read_header names the file, with the same messages.
inline Header read_header_memory(const void* data, std::size_t size, const std::string& name)
{
    sleepnet::detail::memory_istream in(static_cast<const char*>(data), size);
    return detail::read_header_stream(in, size, name);
}

/// Loads an N-dimensional array as T (row-major, logical shape), converting from the
/// file's dtype. Throws format_error when the file has a different number of dimensions
/// or holds a value T cannot represent, limit_error when it has more than
/// limits.max_elements elements (checked before anything is allocated).
template <class T, std::size_t N>
inline xt::xtensor<T, N> load(const std::string& path, const ReadLimits& limits = {})
{
    std::ifstream in;
    const std::uintmax_t size = detail::open_for_reading(path, in, "npy file");
    return detail::load_stream<T, N>(in, size, path, limits);
}

/// npy::load on the `size` bytes of an .npy file at `data`, named `name` in errors.
template <class T, std::size_t N>
inline xt::xtensor<T, N> load_memory(const void* data, std::size_t size, const std::string& name,
                                     const ReadLimits& limits = {})
{
    sleepnet::detail::memory_istream in(static_cast<const char*>(data), size);
    return detail::load_stream<T, N>(in, size, name, limits);
}

/// Saves an expression as a row-major .npy file (written atomically; xtensor's writer).
/// Element types: float, double, bool and 1/2/4/8-byte integers.
template <class E>
inline void save(const std::string& path, const xt::xexpression<E>& e)
{
    using value_type = std::remove_cv_t<typename E::value_type>;
    static_assert(detail::is_npy_value<value_type>::value,
                  "npy::save supports float, double, bool and 1, 2, 4 or 8-byte integers");
    detail::require_little_endian_host(path);
    const auto& ex = e.derived_cast();
    auto&& evaluated = xt::eval(ex);
    if (evaluated.layout() == xt::layout_type::row_major || evaluated.dimension() < 2) {
        sleepnet::detail::write_file_atomically(
            path, [&](std::ostream& out) { xt::detail::dump_npy_stream(out, evaluated); });
    } else {
        const xt::xarray<value_type, xt::layout_type::row_major> row_major = evaluated;
        sleepnet::detail::write_file_atomically(
            path, [&](std::ostream& out) { xt::detail::dump_npy_stream(out, row_major); });
    }
}

}  // namespace npy
}  // namespace sleepnet
