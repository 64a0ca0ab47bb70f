#pragma once
// Crash-consistent replacement of a directory (model directories, nn/io.hpp).
//
// replace_directory(target, marker, fill):
//   1. fill(tmp) fills a new sibling "<target>.tmp-<pid>-<thread>-<ticks>"; it must write
//      `marker` (e.g. model.json) last, so a copy holding the marker is complete;
//   2. the old target, if any, is renamed to "<target>.old.tmp-<pid>-...";
//   3. the new copy is renamed to target;
//   4. the old copy is removed.
// A process killed between 2 and 3 leaves no target, but a complete old and a complete new
// copy. recover_directory(target, marker) repairs that on the next open: when target is
// missing it moves in the newest complete new copy (the save had finished writing: roll
// forward), else the newest old copy (roll back); then it removes every leftover of an
// interrupted replacement whose process is no longer running (a running process's files
// are never touched). So at every moment there is a complete old or a complete new
// directory, and leftovers do not pile up. Concurrent writers of one target are not
// supported (the last rename wins).
//
// detail::directory_step_hook() is a test seam: when set, it is called with the name of
// each step just after the step ("created", "filled", "moved-old", "moved-new",
// "removed-old"); a test kills the process there.

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <sys/types.h>
#include <unistd.h>

#include "atomic_file.hpp"
#include "error.hpp"

namespace sleepnet {
namespace detail {

inline std::function<void(const char*)>& directory_step_hook()
{
    static std::function<void(const char*)> hook;
    return hook;
}

inline void directory_step(const char* step)
{
    if (const auto& hook = directory_step_hook()) hook(step);
}

/// A sibling left by an interrupted replace_directory of some target.
struct DirectoryLeftover {
    std::filesystem::path path;
    bool backup = false;           ///< an old copy (".old.tmp-"), else a new one (".tmp-")
    long pid = 0;                  ///< the process that made it
    unsigned long long ticks = 0;  ///< when (steady clock ticks of that process)
};

/// The leftovers of `target` whose process is not running (pid not alive). Names that do
/// not parse are ignored.
inline std::vector<DirectoryLeftover> directory_leftovers(const std::filesystem::path& target)
{
    namespace fs = std::filesystem;
    std::vector<DirectoryLeftover> out;
    const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    const std::string name = target.filename().string();
    std::error_code ec;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string f = it->path().filename().string();
        DirectoryLeftover l{it->path()};
        std::string rest;
        if (f.rfind(name + ".old.tmp-", 0) == 0) {
            l.backup = true;
            rest = f.substr(name.size() + 9);
        } else if (f.rfind(name + ".tmp-", 0) == 0) {
            rest = f.substr(name.size() + 5);
        } else {
            continue;
        }
        unsigned long long thread = 0;
        if (std::sscanf(rest.c_str(), "%ld-%llu-%llu", &l.pid, &thread, &l.ticks) != 3) continue;
        const bool alive =
            l.pid == static_cast<long>(::getpid()) || ::kill(static_cast<pid_t>(l.pid), 0) == 0 || errno == EPERM;
        if (!alive) out.push_back(l);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.ticks > b.ticks; });  // newest first
    return out;
}

/// Repairs `target` after an interrupted replace_directory (see the top of this header).
/// Errors while removing leftovers are ignored; a failed roll-forward or roll-back throws
/// io_error naming both paths.
inline void recover_directory(const std::string& target, const std::string& marker)
{
    namespace fs = std::filesystem;
    const fs::path t(target);
    std::vector<DirectoryLeftover> left = directory_leftovers(t);
    if (left.empty()) return;
    std::error_code ec;
    if (!fs::exists(t, ec)) {
        auto pick = std::find_if(left.begin(), left.end(),
                                 [&](const auto& l) { return !l.backup && fs::exists(l.path / marker, ec); });
        if (pick == left.end()) pick = std::find_if(left.begin(), left.end(), [](const auto& l) { return l.backup; });
        if (pick != left.end()) {
            fs::rename(pick->path, t, ec);
            if (ec)
                throw io_error("cannot recover '" + target + "' from '" + pick->path.string() + "': " + ec.message());
            left.erase(pick);
        }
    }
    for (const auto& l : left) fs::remove_all(l.path, ec);
}

/// Replaces directory `target` by a new one that fill(path) writes (see the top of this
/// header). On an exception from fill or a failed rename, target is left as it was and the
/// new copy is removed.
template <class Fill>
inline void replace_directory(const std::string& target, const std::string& marker, Fill&& fill)
{
    namespace fs = std::filesystem;
    const fs::path t(target);
    recover_directory(target, marker);
    const fs::path tmp(temporary_name_for(target));
    std::error_code ec;
    fs::create_directory(tmp, ec);
    if (ec) throw io_error("cannot create temporary directory '" + tmp.string() + "': " + ec.message());
    directory_step("created");
    try {
        fill(tmp);
        directory_step("filled");
        fs::path backup;
        if (fs::exists(t)) {
            backup = fs::path(temporary_name_for(target + ".old"));
            fs::rename(t, backup);
            directory_step("moved-old");
        }
        fs::rename(tmp, t, ec);
        if (ec) {
            if (!backup.empty()) fs::rename(backup, t);
            throw io_error("cannot move the new directory into '" + target + "': " + ec.message());
        }
        directory_step("moved-new");
        if (!backup.empty()) fs::remove_all(backup, ec);
        directory_step("removed-old");
    } catch (...) {
        fs::remove_all(tmp, ec);
        throw;
    }
}

}  // namespace detail
}  // namespace sleepnet
