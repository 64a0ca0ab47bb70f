#pragma once
// IDX files (the MNIST format), raw or gzip-compressed. Compression is detected by the
// gzip magic bytes 0x1f 0x8b at the start of the file, not by the file name.
//
// Layout: magic 0x00 0x00 <type> <ndim>, then ndim big-endian uint32 dimensions, then
// the data. Only type 0x08 (unsigned byte) is supported, which is what MNIST and
// Fashion-MNIST use. The data size must equal the product of the dimensions exactly:
// truncated files and trailing bytes are format errors naming the file.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <zlib.h>

#include <xtensor/xtensor.hpp>

#include "sleepnet/core/atomic_file.hpp"
#include "sleepnet/core/error.hpp"
#include "sleepnet/core/tensor.hpp"
#include "sleepnet/data/dataset.hpp"

namespace sleepnet {
namespace idx {
namespace detail {

/// Sequential reader of a raw or gzip file. read() returns fewer bytes than asked only
/// at the end of the (decompressed) content; corrupt or truncated gzip data throws.
class byte_reader {
public:
    explicit byte_reader(const std::string& path) : path_(path)
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
        raw_.open(path, std::ios::binary);
        if (!raw_) {
            throw io_error("IDX file '" + path + "' cannot be opened for reading");
        }
        unsigned char magic[2] = {0, 0};
        raw_.read(reinterpret_cast<char*>(magic), 2);
        const bool gzip = raw_.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        raw_.clear();
        raw_.seekg(0);
        if (gzip) {
            raw_.close();
            gz_ = gzopen(path.c_str(), "rb");
            if (gz_ == nullptr) {
                throw io_error("IDX file '" + path + "' cannot be opened by zlib");
            }
            gzbuffer(gz_, 1u << 17);
        }
    }
    byte_reader(const byte_reader&) = delete;
    byte_reader& operator=(const byte_reader&) = delete;
    ~byte_reader()
    {
        if (gz_ != nullptr) {
            gzclose(gz_);
        }
    }

    bool gzipped() const { return gz_ != nullptr; }

    std::size_t read(unsigned char* dst, std::size_t n)
    {
        if (gz_ == nullptr) {
            raw_.read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
            if (raw_.bad()) {
                throw io_error("IDX file '" + path_ + "': read error");
            }
            return static_cast<std::size_t>(raw_.gcount());
        }
        std::size_t done = 0;
        while (done < n) {
            const unsigned ask = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
            const int got = gzread(gz_, dst + done, ask);
            if (got < 0) {
                throw_gz_error();
            }
            done += static_cast<std::size_t>(got);
            if (static_cast<unsigned>(got) < ask) {
                int err = Z_OK;
                gzerror(gz_, &err);
                if (err != Z_OK) {
                    throw_gz_error();
                }
                break;
            }
        }
        return done;
    }

private:
    [[noreturn]] void throw_gz_error()
    {
        int err = Z_OK;
        const char* msg = gzerror(gz_, &err);
        const std::string what = err == Z_BUF_ERROR ? "truncated gzip stream" : "corrupt gzip data";
        throw format_error("IDX file '" + path_ + "': " + what + " (zlib: " + (msg ? msg : "?") + ")");
    }

    std::string path_;
    std::ifstream raw_;
    gzFile gz_ = nullptr;
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

/// Reads an unsigned-byte IDX file with `ndim` dimensions, checking every size.
inline ubyte_array read_ubyte(const std::string& path, std::size_t ndim)
{
    const std::string where = "IDX file '" + path + "'";
    byte_reader in(path);
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

    ubyte_array out;
    std::size_t count = 1;
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
        out.dims.push_back(d);
    }

    // Grow chunk by chunk, so a corrupt header cannot make us allocate a huge buffer.
    constexpr std::size_t chunk = std::size_t(1) << 20;
    out.data.reserve(std::min(count, std::size_t(64) << 20));
    while (out.data.size() < count) {
        const std::size_t want = std::min(chunk, count - out.data.size());
        const std::size_t at = out.data.size();
        out.data.resize(at + want);
        const std::size_t got = in.read(out.data.data() + at, want);
        if (got < want) {
            throw format_error(where + ": truncated data: dimensions " + sleepnet::detail::shape_string(out.dims) +
                               " need " + std::to_string(count) + " data bytes, file has " + std::to_string(at + got) +
                               content);
        }
    }
    std::size_t trailing = 0;
    std::vector<unsigned char> sink(1 << 16);
    for (std::size_t got; (got = in.read(sink.data(), sink.size())) > 0;) {
        trailing += got;
    }
    if (trailing > 0) {
        throw format_error(where + ": trailing data: dimensions " + sleepnet::detail::shape_string(out.dims) +
                           " need " + std::to_string(count) + " data bytes, file has " +
                           std::to_string(count + trailing) + content);
    }
    return out;
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

/// Images of an IDX3 file as an N x (rows*cols) matrix scaled to [0, 1] (byte / 255).
template <class T = float>
inline matrix<T> read_images(const std::string& path)
{
    static_assert(std::is_floating_point<T>::value, "idx::read_images needs a floating-point type");
    const detail::ubyte_array a = detail::read_ubyte(path, 3);
    if (a.dims[1] == 0 || a.dims[2] == 0) {
        throw format_error("IDX file '" + path + "': image size " + std::to_string(a.dims[1]) + " x " +
                           std::to_string(a.dims[2]) + " is empty");
    }
    matrix<T> out({a.dims[0], a.dims[1] * a.dims[2]});
    T* dst = out.data();
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        dst[i] = static_cast<T>(a.data[i]) / T(255);
    }
    return out;
}

/// Labels of an IDX1 file; each must be < classes (format_error naming index and value).
inline label_vector read_labels(const std::string& path, std::size_t classes = 10)
{
    sleepnet::detail::require(classes > 0, "idx::read_labels: argument 'classes' is 0");
    const detail::ubyte_array a = detail::read_ubyte(path, 1);
    label_vector out(label_vector::shape_type{a.dims[0]});
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        if (a.data[i] >= classes) {
            throw format_error("IDX file '" + path + "': label " + std::to_string(i) + " has value " +
                               std::to_string(a.data[i]) + ", not < classes = " + std::to_string(classes));
        }
        out(i) = a.data[i];
    }
    return out;
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
