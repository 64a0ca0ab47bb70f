#pragma once
// Strict outputs of the example programs (issue 17): every output is checked before any
// work starts, and a program with several outputs leaves nothing new behind when it fails.
//
//   check_outputs({{"--out", a.out_dir, true}, {"--json", a.json_file}});   // first thing in run()
//
// check_outputs refuses, naming the flag and the path:
//   - an output whose first existing ancestor is not a directory (e.g. a regular file) or
//     is a directory this process cannot write in (a read-only file system refuses root too);
//   - a file output that is an existing directory, a directory output that is an existing
//     non-directory;
//   - two outputs (or an output and an input that must stay apart) naming the same path
//     after normalisation (std::filesystem::weakly_canonical of the absolute path, so
//     "./x" and "x" are one file).
// Nothing is created: missing parent directories are made by the writers later
// (make_parent_directories, write_json of common.hpp).
//
// StagedFile: an output written in full under a temporary name before the program's other
// outputs, renamed onto its path by commit() after them; removed if never committed.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

#include <sleepnet/core/atomic_file.hpp>
#include <sleepnet/core/error.hpp>

namespace examples {

/// One output (or input) of a program: the flag that named it, its path ("" = not given).
struct Output {
    std::string flag;
    std::string path;
    bool directory = false;  ///< a directory (model directory, --out of reproduce), else a file
};

/// `path` after normalisation: absolute, ".", ".." and symbolic links resolved as far as it exists.
inline std::filesystem::path normalized_path(const std::string& path)
{
    std::error_code ec;
    const auto abs = std::filesystem::absolute(path, ec);
    if (ec) return std::filesystem::path(path).lexically_normal();
    const auto canon = std::filesystem::weakly_canonical(abs, ec);
    return ec ? abs.lexically_normal() : canon;
}

/// The nearest ancestor of the absolute `p` that exists (p's parent, its parent, ...; "/" at last).
inline std::filesystem::path first_existing_ancestor(const std::filesystem::path& p)
{
    std::filesystem::path a = p.parent_path();
    for (;;) {
        std::error_code ec;
        const auto st = std::filesystem::status(a, ec);
        if (std::filesystem::exists(st) || a == a.root_path() || a.empty()) return a;
        a = a.parent_path();
    }
}

/// Refuses an output that cannot be written (see the top of this header).
inline void check_writable(const Output& o)
{
    namespace fs = std::filesystem;
    const std::string at = o.flag + " '" + o.path + "'";
    std::error_code ec;
    const fs::path p = fs::absolute(o.path, ec);
    if (ec) throw sleepnet::invalid_argument(at + ": " + ec.message());
    const auto st = fs::status(p, ec);
    if (o.directory && fs::exists(st) && !fs::is_directory(st))
        throw sleepnet::invalid_argument(at + " exists and is not a directory");
    if (!o.directory && fs::is_directory(st)) throw sleepnet::invalid_argument(at + " is a directory");
    const fs::path parent = first_existing_ancestor(p);
    if (!fs::is_directory(parent))
        throw sleepnet::invalid_argument(at + " cannot be written: '" + parent.string() + "' is not a directory");
    if (::access(parent.c_str(), W_OK | X_OK) != 0) {
        const int err = errno;
        throw sleepnet::invalid_argument(at + " cannot be written: no write access to '" + parent.string() + "' (" +
                                         std::strerror(err) + ")");
    }
}

/// Checks every given output (check_writable) and that no two of `outputs` and
/// `keep_apart` (inputs an output must not overwrite) name the same path; empty paths are
/// skipped. Errors are sleepnet::invalid_argument naming the flags and the paths.
inline void check_outputs(const std::vector<Output>& outputs, const std::vector<Output>& keep_apart = {})
{
    std::vector<Output> all;
    for (const auto& o : outputs) {
        if (o.path.empty()) continue;
        check_writable(o);
        all.push_back(o);
    }
    const std::size_t n_out = all.size();
    for (const auto& i : keep_apart)
        if (!i.path.empty()) all.push_back(i);
    for (std::size_t i = 0; i < n_out; ++i)
        for (std::size_t k = i + 1; k < all.size(); ++k)
            if (normalized_path(all[i].path) == normalized_path(all[k].path))
                throw sleepnet::invalid_argument(all[i].flag + " '" + all[i].path + "' and " + all[k].flag + " '" +
                                                 all[k].path + "' are the same path; they must differ");
}

/// True if `path` lies inside directory `dir` (both normalised as normalized_path).
inline bool is_inside(const std::string& path, const std::string& dir)
{
    const auto p = normalized_path(path), d = normalized_path(dir);
    auto pi = p.begin();
    for (auto di = d.begin(); di != d.end(); ++di, ++pi)
        if (pi == p.end() || *pi != *di) return false;
    return pi != p.end();
}

/// Creates the missing parent directories of file `path` (check_writable allowed them).
inline void make_parent_directories(const std::string& path)
{
    const auto parent = std::filesystem::path(path).parent_path();
    if (parent.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec)
        throw sleepnet::io_error("cannot write '" + path + "': cannot create '" + parent.string() + "' (" +
                                 ec.message() + ")");
}

/// A file output written in full now (atomically, under a temporary name beside `path`)
/// and moved onto `path` by commit(); the destructor removes it if it was never committed.
class StagedFile {
public:
    StagedFile(std::string path, const std::string& text)
        : path_(std::move(path)), tmp_(sleepnet::detail::temporary_name_for(path_))
    {
        make_parent_directories(path_);
        sleepnet::detail::write_file_atomically(tmp_, [&](std::ostream& out) { out << text; });
    }
    StagedFile(const StagedFile&) = delete;
    StagedFile& operator=(const StagedFile&) = delete;
    ~StagedFile()
    {
        if (!committed_) std::remove(tmp_.c_str());
    }

    void commit()
    {
        if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
            const int err = errno;
            throw sleepnet::io_error("cannot write '" + path_ + "': renaming '" + tmp_ + "' failed (" +
                                     std::strerror(err) + ")");
        }
        committed_ = true;
    }

private:
    std::string path_, tmp_;
    bool committed_ = false;
};

}  // namespace examples
