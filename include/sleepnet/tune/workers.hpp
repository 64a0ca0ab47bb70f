#pragma once
// Where a sleep parameter search evaluates its candidates (tune_sleep_on in tune/search.hpp).
//
// Every process of a search runs the same search: it draws the same candidates from an
// engine seeded alike, so all know each batch without being told. A Workers object says
// which of a batch's candidates this process evaluates and brings the others' results in.
// One process, the root, writes the log and holds the result that counts.
//
// The interface (LocalWorkers is the one-process model; tune/mpi_workers.hpp has MpiWorkers):
//   bool root() const                     this process writes the log and reports
//   std::string share(const std::string& text) const
//                                         the root's text, on every process
//   std::vector<std::size_t> mine(const std::vector<std::size_t>& todo) const
//                                         the entries of todo this process evaluates
//   std::string exchange(std::vector<TuneCandidate>& batch, const std::vector<std::size_t>& todo,
//                        const std::string& error) const
//                                         after this process evaluated mine(todo) (error: why
//                                         it failed, else empty), fills the others' entries of
//                                         batch; returns why another process failed ("" if
//                                         none), so that every process stops together
//   bool any(bool flag) const             true on all if true on one (a callback's stop)
//
// The candidates a process evaluates are independent of who evaluates them (common random
// numbers, tune/search.hpp), so the history is the same for any number of processes.

#include <cstddef>
#include <string>
#include <vector>

#include "tune_log.hpp"

namespace sleepnet {

/// The search's candidates are all evaluated here, on TuneOptions::threads threads.
struct LocalWorkers {
    bool root() const { return true; }
    std::string share(const std::string& text) const { return text; }
    std::vector<std::size_t> mine(const std::vector<std::size_t>& todo) const { return todo; }
    std::string exchange(std::vector<TuneCandidate>&, const std::vector<std::size_t>&, const std::string&) const
    {
        return {};
    }
    bool any(bool flag) const { return flag; }
};

}  // namespace sleepnet
