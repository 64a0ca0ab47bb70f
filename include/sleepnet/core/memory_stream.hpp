#pragma once
// An std::istream over bytes in memory (not copied): the readers of files (IDX, npy, model
// directories) read a stream of known size, so a buffer goes through the same code as a file.
//
//   sleepnet::detail::memory_istream in(bytes.data(), bytes.size());
//   const auto header = sleepnet::npy::detail::read_header_stream(in, bytes.size(), "name");
//
// The bytes must outlive the stream. Seeking (seekg, tellg) works within the buffer.

#include <cstddef>
#include <ios>
#include <istream>
#include <streambuf>

namespace sleepnet {
namespace detail {

/// A read-only stream buffer over [data, data + size).
class memory_buffer : public std::streambuf {
public:
    memory_buffer(const char* data, std::size_t size)
    {
        char* p = const_cast<char*>(data);  // never written: the get area only
        setg(p, p, p + size);
    }

protected:
    pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override
    {
        if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
        const off_type size = egptr() - eback();
        const off_type base = dir == std::ios_base::beg ? 0 : dir == std::ios_base::cur ? gptr() - eback() : size;
        if (off < -base || off > size - base) return pos_type(off_type(-1));
        setg(eback(), eback() + base + off, egptr());
        return pos_type(base + off);
    }
    pos_type seekpos(pos_type pos, std::ios_base::openmode which) override
    {
        return seekoff(off_type(pos), std::ios_base::beg, which);
    }
};

/// An istream reading [data, data + size).
class memory_istream : private memory_buffer, public std::istream {
public:
    memory_istream(const char* data, std::size_t size) : memory_buffer(data, size), std::istream(this) {}
};

}  // namespace detail
}  // namespace sleepnet
