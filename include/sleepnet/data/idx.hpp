#pragma once
// IDX files (the MNIST format), raw or gzip-compressed. Compression is detected by the
// gzip magic bytes 0x1f 0x8b at the start of the file, not by the file name.
//
// Layout: magic 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 dimensions, then
// the data. Only type 0x08 (unsigned byte) is supported, which is what MNIST and
// Fashion-MNIST use. The data size must equal the product of the dimensions exactly:
// truncated files and trailing bytes are format errors naming the file. The readers take
// a file or the bytes of one in memory (read_images_memory, read_labels_memory: the same
// code and messages); a tensor of more than ReadLimits::max_elements (core/read_limits.hpp)
// is a limit_error, checked before anything of that size is allocated.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

#include <xtensor/xtensor.hpp>

#include "sleepnet/core/atomic_file.hpp"
#include "sleepnet/core/error.hpp"
#include "sleepnet/core/memory_stream.hpp"
#include "sleepnet/core/read_limits.hpp"
#include "sleepnet/core/tensor.hpp"
#include "sleepnet/data/dataset.hpp"

namespace sleepnet {
namespace idx {
namespace detail {

/// Sequential reader of the bytes of an IDX stream of known size, raw or gzip (detected by
/// the magic bytes). Gzip is inflated here with zlib, from a file or a buffer alike; like
/// zlib's gzread, concatenated gzip members are read one after the other and bytes after the
/// last member that do not start another one are ignored. read() returns fewer bytes than
/// asked only at the end of the (decompressed) content; corrupt or truncated gzip data is a
/// format_error naming `where`.
class byte_reader {
public:
    byte_reader(std::istream& in, std::uintmax_t size, const std::string& where) : in_(in), left_(size), where_(where)
    {
        unsigned char magic[2] = {0, 0};
        const bool gzip = read_raw(magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        in_.clear();
        in_.seekg(0);
        left_ = size;
        if (gzip) {
            z_ = z_stream{};
            if (inflateInit2(&z_, 15 + 16) != Z_OK) throw io_error(where_ + ": zlib cannot start inflating");
            gzip_ = true;
            input_.resize(std::size_t(1) << 16);
        }
    }
    byte_reader(const byte_reader&) = delete;
    byte_reader& operator=(const byte_reader&) = delete;
    ~byte_reader()
    {
        if (gzip_) inflateEnd(&z_);
    }

    bool gzipped() const { return gzip_; }

    /// Bytes of the stream not read yet (for gzip: compressed bytes).
    std::uintmax_t raw_left() const { return left_; }

    std::size_t read(unsigned char* dst, std::size_t n) { return gzip_ ? inflate_into(dst, n) : read_raw(dst, n); }

private:
    std::size_t read_raw(unsigned char* dst, std::size_t n)
    {
        n = static_cast<std::size_t>(std::min<std::uintmax_t>(n, left_));
        in_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (in_.bad()) throw io_error(where_ + ": read error");
        const auto got = static_cast<std::size_t>(in_.gcount());
        left_ -= got;
        return got;
    }

    /// Tops the unconsumed input up to at least k bytes (fewer at the end of the stream).
    void ensure_input(std::size_t k)
    {
        if (z_.avail_in >= k) return;
        if (z_.avail_in > 0) std::memmove(input_.data(), z_.next_in, z_.avail_in);
        const std::size_t got = read_raw(input_.data() + z_.avail_in, input_.size() - z_.avail_in);
        z_.next_in = input_.data();
        z_.avail_in += static_cast<uInt>(got);
    }

    std::size_t inflate_into(unsigned char* dst, std::size_t n)
    {
        std::size_t done = 0;
        while (done < n && !finished_) {
            ensure_input(1);
            if (z_.avail_in == 0) throw_gz_error("truncated gzip stream", "unexpected end of file");
            z_.next_out = dst + done;
            z_.avail_out = static_cast<uInt>(std::min<std::size_t>(n - done, 1u << 30));
            const uInt before = z_.avail_out, had = z_.avail_in;
            const int ret = inflate(&z_, Z_NO_FLUSH);
            done += before - z_.avail_out;
            if (ret == Z_BUF_ERROR && before == z_.avail_out && had == z_.avail_in) {
                throw_gz_error("corrupt gzip data", "no progress");  // never seen; guards against a loop
            }
            if (ret == Z_STREAM_END) {
                ensure_input(2);  // another member follows, or the content ends here
                if (z_.avail_in >= 2 && z_.next_in[0] == 0x1f && z_.next_in[1] == 0x8b) {
                    inflateReset(&z_);
                } else {
                    finished_ = true;
                }
            } else if (ret == Z_MEM_ERROR) {
                throw io_error(where_ + ": zlib ran out of memory");
            } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
                throw_gz_error("corrupt gzip data", z_.msg);
            }
        }
        return done;
    }

    [[noreturn]] void throw_gz_error(const std::string& what, const char* msg)
    {
        throw format_error(where_ + ": " + what + " (zlib: " + (msg ? msg : "?") + ")");
    }

    std::istream& in_;
    std::uintmax_t left_;
    std::string where_;
    bool gzip_ = false;
    bool finished_ = false;
    z_stream z_{};
    std::vector<unsigned char> input_;
};

inline std::string hex_byte(unsigned v)
{
    const char* digits = "0123456789abcdef";
    return std::string("0x") + digits[(v >> 4) & 0xf] + digits[v & 0xf];
}

inline const char* idx_type_name(unsigned t)
{
    switch (t) {
    case 0x08:
        return "unsigned byte";
    case 0x09:
        return "signed byte";
    case 0x0B:
        return "int16";
    case 0x0C:
        return "int32";
    case 0x0D:
        return "float32";
    case 0x0E:
        return "float64";
    default:
        return nullptr;
    }
}

struct ubyte_array {
    std::vector<std::size_t> dims;
    std::vector<std::uint8_t> data;
};

/// Reads the magic and the dimensions of an unsigned-byte IDX stream with `ndim` dimensions;
/// returns the dimensions and sets count to their product (checked against overflow).
inline std::vector<std::size_t> read_ubyte_header(byte_reader& in, std::size_t ndim, const std::string& where,
                                                  std::size_t& count)
{
    const std::string content = in.gzipped() ? " (decompressed)" : "";
    unsigned char magic[4];
    if (in.read(magic, 4) != 4) {
        throw format_error(where + ": truncated header (fewer than 4 magic bytes" + content + ")");
    }
    if (magic[0] != 0 || magic[1] != 0) {
        throw format_error(where + ": bad magic " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) +
                           " (an IDX file starts with 0x00 0x00)");
    }
    if (magic[2] != 0x08) {
        const char* name = idx_type_name(magic[2]);
        throw format_error(where + ": " +
                           (name ? "data type " + hex_byte(magic[2]) + " (" + name + ") is not supported"
                                 : "unknown data type " + hex_byte(magic[2])) +
                           "; only 0x08 (unsigned byte) is");
    }
    if (magic[3] != ndim) {
        throw format_error(where + ": has " + std::to_string(magic[3]) + " dimension(s), expected " +
                           std::to_string(ndim));
    }
    std::vector<std::size_t> dims;
    count = 1;
    for (std::size_t i = 0; i < ndim; ++i) {
        unsigned char b[4];
        if (in.read(b, 4) != 4) {
            throw format_error(where + ": truncated header (dimension " + std::to_string(i) + " missing" + content +
                               ")");
        }
        const std::size_t d =
            (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | std::size_t(b[3]);
        if (d != 0 && count > std::numeric_limits<std::size_t>::max() / d) {
            throw format_error(where + ": dimensions overflow the element count");
        }
        count *= d;
        dims.push_back(d);
    }
    return dims;
}

/// format_error "truncated data" / "trailing data" when `have` data bytes are not `count`.
inline void check_data_size(std::size_t count, std::uintmax_t have, const std::vector<std::size_t>& dims,
                            const std::string& where, const std::string& content)
{
    if (have == count) return;
    throw format_error(where + ": " + (have < count ? "truncated data" : "trailing data") + ": dimensions " +
                       sleepnet::detail::shape_string(dims) + " need " + std::to_string(count) +
                       " data bytes, file has " + std::to_string(have) + content);
}

/// Reads an unsigned-byte IDX stream of `size` bytes with `ndim` dimensions, checking
/// every size; `name` (the file) is named in errors. The dimensions are checked against
/// the stream's size (raw data) and the cap before anything is allocated;
/// gzip data is read chunk by chunk, so its buffer never outgrows what the stream holds.
inline ubyte_array read_ubyte(std::istream& stream, std::uintmax_t size, const std::string& name, std::size_t ndim,
                              const ReadLimits& limits)
{
    const std::string where = "IDX file '" + name + "'";
    byte_reader in(stream, size, where);
    const std::string content = in.gzipped() ? " (decompressed)" : "";
    ubyte_array out;
    std::size_t count = 0;
    out.dims = read_ubyte_header(in, ndim, where, count);
    if (!in.gzipped()) check_data_size(count, in.raw_left(), out.dims, where, content);
    sleepnet::detail::check_element_cap(count, out.dims, limits, where);

    // deflate expands at most 1032:1: reserve no more than the rest of the stream can fill,
    // then grow geometrically from there (gzip), in steps of at most 1 MiB
    constexpr std::size_t chunk = std::size_t(1) << 20, step = std::size_t(1) << 16;
    const std::uintmax_t fill = in.gzipped() ? 1032 * std::min<std::uintmax_t>(in.raw_left(), chunk) : in.raw_left();
    out.data.reserve(static_cast<std::size_t>(std::min<std::uintmax_t>(count, fill)));
    while (out.data.size() < count) {
        const std::size_t at = out.data.size();
        const std::size_t want = std::min({chunk, count - at, std::max(out.data.capacity() - at, step)});
        out.data.resize(at + want);
        const std::size_t got = in.read(out.data.data() + at, want);
        if (got < want) check_data_size(count, at + got, out.dims, where, content);
    }
    std::size_t trailing = 0;
    std::vector<unsigned char> sink(1 << 16);
    for (std::size_t got; (got = in.read(sink.data(), sink.size())) > 0;) {
        trailing += got;
    }
    check_data_size(count, count + trailing, out.dims, where, content);
    return out;
}

/// read_ubyte on the file `path`: io_error when it is missing, not a regular file or
/// cannot be opened.
inline ubyte_array read_ubyte_file(const std::string& path, std::size_t ndim, const ReadLimits& limits)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
        throw io_error("IDX file '" + path + "' does not exist");
    }
    if (!fs::is_regular_file(st)) {
        throw io_error("IDX file '" + path + "' is not a regular file");
    }
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) {
        throw io_error("IDX file '" + path + "': cannot get its size (" + ec.message() + ")");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw io_error("IDX file '" + path + "' cannot be opened for reading");
    }
    return read_ubyte(in, size, path, ndim, limits);
}

/// read_ubyte on `size` bytes at `data`, named `name` in errors.
inline ubyte_array read_ubyte_memory(const void* data, std::size_t size, const std::string& name, std::size_t ndim,
                                     const ReadLimits& limits)
{
    sleepnet::detail::memory_istream in(static_cast<const char*>(data), size);
    return read_ubyte(in, size, name, ndim, limits);
}

inline void write_ubyte(const std::string& path, const std::vector<std::size_t>& dims, const std::uint8_t* data,
                        std::size_t count)
{
    std::string header = {0, 0, 0x08, static_cast<char>(dims.size())};
    for (std::size_t d : dims) {
        sleepnet::detail::require(d <= 0xffffffffu,
                                  "IDX write '" + path + "': dimension " + std::to_string(d) + " does not fit 32 bits");
        header += static_cast<char>((d >> 24) & 0xff);
        header += static_cast<char>((d >> 16) & 0xff);
        header += static_cast<char>((d >> 8) & 0xff);
        header += static_cast<char>(d & 0xff);
    }
    sleepnet::detail::write_file_atomically(path, [&](std::ostream& out) {
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count));
    });
}

}  // namespace detail

namespace detail {

template <class T>
inline matrix<T> images_from(const ubyte_array& a, const std::string& name)
{
    if (a.dims[1] == 0 || a.dims[2] == 0) {
        throw format_error("IDX file '" + name + "': image size " + std::to_string(a.dims[1]) + " x " +
                           std::to_string(a.dims[2]) + " is empty");
    }
    matrix<T> out({a.dims[0], a.dims[1] * a.dims[2]});
    T* dst = out.data();
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        dst[i] = static_cast<T>(a.data[i]) / T(255);
    }
    return out;
}

inline label_vector labels_from(const ubyte_array& a, const std::string& name, std::size_t classes)
{
    label_vector out(label_vector::shape_type{a.dims[0]});
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        if (a.data[i] >= classes) {
            throw format_error("IDX file '" + name + "': label " + std::to_string(i) + " has value " +
                               std::to_string(a.data[i]) + ", not < classes = " + std::to_string(classes));
        }
        out(i) = a.data[i];
    }
    return out;
}

}  // namespace detail

/// Images of an IDX3 file as an N x (rows*cols) matrix scaled to [0, 1] (byte / 255); more
/// than limits.max_elements pixels is a limit_error.
template <class T = float>
inline matrix<T> read_images(const std::string& path, const ReadLimits& limits = {})
{
    static_assert(std::is_floating_point<T>::value, "idx::read_images needs a floating-point type");
    return detail::images_from<T>(detail::read_ubyte_file(path, 3, limits), path);
}

/// read_images on the `size` bytes of an IDX3 file (raw or gzip) at `data`; errors name
/// `name` where read_images names the file, with the same messages.
template <class T = float>
inline matrix<T> read_images_memory(const void* data, std::size_t size, const std::string& name,
                                    const ReadLimits& limits = {})
{
    static_assert(std::is_floating_point<T>::value, "idx::read_images_memory needs a floating-point type");
    return detail::images_from<T>(detail::read_ubyte_memory(data, size, name, 3, limits), name);
}

/// Labels of an IDX1 file; each must be < classes (format_error naming index and value).
inline label_vector read_labels(const std::string& path, std::size_t classes = 10, const ReadLimits& limits = {})
{
    sleepnet::detail::require(classes > 0, "idx::read_labels: argument 'classes' is 0");
    return detail::labels_from(detail::read_ubyte_file(path, 1, limits), path, classes);
}

/// read_labels on the `size` bytes of an IDX1 file (raw or gzip) at `data`, named `name`.
inline label_vector read_labels_memory(const void* data, std::size_t size, const std::string& name,
                                       std::size_t classes = 10, const ReadLimits& limits = {})
{
    sleepnet::detail::require(classes > 0, "idx::read_labels_memory: argument 'classes' is 0");
    return detail::labels_from(detail::read_ubyte_memory(data, size, name, 1, limits), name, classes);
}

/// Writes N x rows x cols bytes as a raw IDX3 file (atomically).
inline void write_images(const std::string& path, const xt::xtensor<std::uint8_t, 3>& images)
{
    const std::vector<std::size_t> dims(images.shape().begin(), images.shape().end());
    detail::write_ubyte(path, dims, images.data(), images.size());
}

/// Writes an N x (rows*cols) matrix of values in [0, 1] as a raw IDX3 file, each value
/// stored as round(255 * v). Throws invalid_argument on a shape mismatch or a value
/// outside [0, 1].
template <class T>
inline void write_images(const std::string& path, const matrix<T>& images, std::size_t rows, std::size_t cols)
{
    sleepnet::detail::require(rows > 0 && cols > 0 && images.shape(1) == rows * cols,
                              "idx::write_images: images have " + std::to_string(images.shape(1)) +
                                  " columns, rows x cols = " + std::to_string(rows) + " x " + std::to_string(cols));
    xt::xtensor<std::uint8_t, 3> bytes(xt::xtensor<std::uint8_t, 3>::shape_type{images.shape(0), rows, cols});
    const T* src = images.data();
    for (std::size_t i = 0; i < images.size(); ++i) {
        const T v = src[i];
        if (!(v >= T(0) && v <= T(1))) {
            throw invalid_argument("idx::write_images: images(" + std::to_string(i / images.shape(1)) + ", " +
                                   std::to_string(i % images.shape(1)) + ") = " + std::to_string(v) +
                                   " is outside [0, 1]");
        }
        bytes.data()[i] = static_cast<std::uint8_t>(std::lround(static_cast<double>(v) * 255.0));
    }
    write_images(path, bytes);
}

/// Writes labels (each <= 255) as a raw IDX1 file (atomically).
inline void write_labels(const std::string& path, const label_vector& labels)
{
    std::vector<std::uint8_t> bytes(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels(i) > 255) {
            throw invalid_argument("idx::write_labels: labels(" + std::to_string(i) +
                                   ") = " + std::to_string(labels(i)) + " does not fit one byte");
        }
        bytes[i] = static_cast<std::uint8_t>(labels(i));
    }
    detail::write_ubyte(path, {labels.size()}, bytes.data(), bytes.size());
}

namespace detail {

/// DIR/base, or DIR/base.gz when only that exists; io_error with `hint` otherwise.
inline std::string find_idx_file(const std::string& dir, const std::string& base, const std::string& hint)
{
    namespace fs = std::filesystem;
    const std::string plain = (fs::path(dir) / base).string();
    std::error_code ec;
    if (fs::is_regular_file(plain, ec)) {
        return plain;
    }
    if (fs::is_regular_file(plain + ".gz", ec)) {
        return plain + ".gz";
    }
    throw io_error("IDX file '" + plain + "' (or '" + plain + ".gz') not found; " + hint);
}

template <class T>
inline DataSplits<T> load_idx_splits(const std::string& dir, const std::string& name, const std::string& hint)
{
    auto part = [&](const std::string& prefix) {
        const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte", hint);
        const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte", hint);
        Dataset<T> d;
        d.x = read_images<T>(images_path);
        d.y = read_labels(labels_path, 10);
        d.classes = 10;
        d.name = name;
        if (d.x.shape(0) != d.y.size()) {
            throw format_error("IDX files '" + images_path + "' and '" + labels_path + "' disagree: " +
                               std::to_string(d.x.shape(0)) + " images but " + std::to_string(d.y.size()) + " labels");
        }
        return std::make_pair(d, images_path);
    };
    auto train = part("train");
    auto test = part("t10k");
    if (train.first.dim() != test.first.dim()) {
        throw format_error("IDX files '" + train.second + "' and '" + test.second + "' have different image sizes (" +
                           std::to_string(train.first.dim()) + " vs " + std::to_string(test.first.dim()) + " pixels)");
    }
    return {std::move(train.first), std::move(test.first)};
}

}  // namespace detail
}  // namespace idx

/// MNIST from DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each raw or with a .gz
/// suffix. A missing file is an io_error naming it and scripts/fetch-data.sh.
template <class T = float>
inline DataSplits<T> load_mnist(const std::string& dir)
{
    return idx::detail::load_idx_splits<T>(dir, "mnist", "run scripts/fetch-data.sh to download MNIST");
}

/// Fashion-MNIST, same files (gzipped in the Debian package dataset-fashion-mnist).
template <class T = float>
inline DataSplits<T> load_fashion_mnist(const std::string& dir = "/usr/share/datasets/fashion-mnist")
{
    return idx::detail::load_idx_splits<T>(
        dir, "fashion-mnist",
        "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
        "or run scripts/fetch-data.sh");
}

}  // namespace sleepnet
