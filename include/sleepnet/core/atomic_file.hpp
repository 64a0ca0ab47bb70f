#pragma once
// Atomic file writing: the content goes to a temporary file in the same directory, which
// is renamed onto the target only after it was written and flushed without error. A
// reader therefore sees either the old file or the complete new one, never half of it.

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

#include "sleepnet/core/error.hpp"

namespace sleepnet {
namespace detail {

/// A temporary name beside `path`, unique per process, thread and moment:
/// "<path>.tmp-<pid>-<thread hash>-<clock ticks>".
inline std::string temporary_name_for(const std::string& path)
{
    const auto ticks = static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    const auto thread =
        static_cast<unsigned long long>(std::hash<std::thread::id>{}(std::this_thread::get_id()) & 0xffffffu);
    return path + ".tmp-" + std::to_string(static_cast<long long>(::getpid())) + "-" + std::to_string(thread) + "-" +
           std::to_string(ticks);
}

/// Writes `path` atomically. `write(std::ostream&)` fills a binary stream opened on a
/// temporary file in the same directory; the stream is checked after `write` and after
/// the flush, then the temporary file is renamed onto `path`. On any failure the
/// temporary file is removed and nothing at `path` changes. Stream, open and rename
/// failures throw io_error naming `path`; a sleepnet::error thrown by `write` is passed
/// on unchanged; any other std::exception from `write` becomes an io_error naming `path`.
template <class Fn>
inline void write_file_atomically(const std::string& path, Fn&& write)
{
    require<invalid_argument>(!path.empty(), "write_file_atomically: argument 'path' is empty");
    const std::string tmp = temporary_name_for(path);

    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
        const int err = errno;
        throw io_error("cannot write '" + path + "': cannot create temporary file '" + tmp + "' (" +
                       std::strerror(err) + ")");
    }

    auto fail = [&](const std::string& why) {
        out.close();
        std::remove(tmp.c_str());
        throw io_error("cannot write '" + path + "': " + why);
    };

    try {
        std::forward<Fn>(write)(static_cast<std::ostream&>(out));
    } catch (const sleepnet::error&) {
        out.close();
        std::remove(tmp.c_str());
        throw;
    } catch (const std::exception& e) {
        fail(std::string("writer failed: ") + e.what());
    } catch (...) {
        out.close();
        std::remove(tmp.c_str());
        throw;
    }

    if (!out) {
        fail("stream error while writing temporary file '" + tmp + "'");
    }
    out.flush();
    if (!out) {
        fail("stream error while flushing temporary file '" + tmp + "'");
    }
    out.close();
    if (out.fail()) {
        std::remove(tmp.c_str());
        throw io_error("cannot write '" + path + "': closing temporary file '" + tmp + "' failed");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        std::remove(tmp.c_str());
        throw io_error("cannot write '" + path + "': renaming temporary file '" + tmp + "' failed (" +
                       std::strerror(err) + ")");
    }
}

}  // namespace detail
}  // namespace sleepnet
