#pragma once
// MpiWorkers: a sleep parameter search over the ranks of an MPI communicator
// (tune_sleep_on in tune/search.hpp; the interface is in tune/workers.hpp). Needs <mpi.h>
// and an MPI library (CMake: find_package(MPI), MPI::MPI_CXX); nothing else in sleepnet
// includes this header, so the library stays usable without MPI.
//
//   MPI_Init(&argc, &argv);
//   {
//       sleepnet::MpiWorkers workers(MPI_COMM_WORLD);
//       auto result = sleepnet::tune_sleep_on(workers, control, data, space, objective, options, engines, engine);
//       if (workers.root()) ... report result ...
//   }
//   MPI_Finalize();
//
// Every rank runs the search with the same arguments (it draws the same candidates). Of
// each batch's candidates to evaluate, rank r evaluates those at positions k with
// k % size == r (on TuneOptions::threads threads); after the batch every rank has every
// result (MPI_Allgatherv of their log lines, which carry doubles exactly), so all ranks
// breed the same next generation. Rank 0 reads and writes the log (its path need not be
// visible to the other ranks). A batch takes as long as its slowest rank: with B candidates
// per batch and R ranks, each rank evaluates ceil(B / R) of them (see docs/tune.md).
// Identity with a serial run needs the same OPENBLAS_NUM_THREADS on every rank when
// candidates refit (tune/search.hpp).

#include <cstddef>
#include <string>
#include <vector>

#include <mpi.h>
#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "tune_log.hpp"

namespace sleepnet {

class MpiWorkers {
public:
    /// The ranks of `comm` (MPI must be initialised; the communicator must outlive this).
    explicit MpiWorkers(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm)
    {
        check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    }

    int rank() const { return rank_; }
    int size() const { return size_; }
    bool root() const { return rank_ == 0; }

    /// Rank 0's text on every rank (the other ranks' argument is ignored).
    std::string share(const std::string& text) const
    {
        unsigned long long n = text.size();
        check(MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, comm_), "MPI_Bcast");
        std::string out = root() ? text : std::string(static_cast<std::size_t>(n), '\0');
        if (n > 0) check(MPI_Bcast(out.data(), count(n), MPI_CHAR, 0, comm_), "MPI_Bcast");
        return out;
    }

    /// The positions k of todo with k % size == rank.
    std::vector<std::size_t> mine(const std::vector<std::size_t>& todo) const
    {
        std::vector<std::size_t> out;
        for (std::size_t k = static_cast<std::size_t>(rank_); k < todo.size(); k += static_cast<std::size_t>(size_))
            out.push_back(todo[k]);
        return out;
    }

    /// Sends this rank's evaluated candidates (or its error) to all and takes the others'.
    std::string exchange(std::vector<TuneCandidate>& batch, const std::vector<std::size_t>& todo,
                         const std::string& error) const
    {
        nlohmann::json payload = nlohmann::json::object();
        if (!error.empty()) {
            payload["error"] = error;
        } else {
            payload["candidates"] = nlohmann::json::array();
            for (std::size_t i : mine(todo)) payload["candidates"].push_back(batch[i]);
        }
        const std::vector<std::string> all = gather(payload.dump());
        std::string failure;
        for (std::size_t r = 0; r < all.size(); ++r) {
            if (static_cast<int>(r) == rank_) continue;
            const auto j = nlohmann::json::parse(all[r]);
            if (j.contains("error")) {
                if (failure.empty()) failure = "tune: rank " + std::to_string(r) + ": " + j["error"].get<std::string>();
                continue;
            }
            for (const auto& line : j.at("candidates")) take(batch, line, r);
        }
        return failure;
    }

    /// True on every rank if `flag` is true on one.
    bool any(bool flag) const
    {
        int in = flag ? 1 : 0, out = 0;
        check(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, comm_), "MPI_Allreduce");
        return out != 0;
    }

private:
    static void check(int code, const char* what)
    {
        if (code != MPI_SUCCESS) throw sleepnet::error(std::string("MpiWorkers: ") + what + " failed");
    }

    static int count(unsigned long long n)
    {
        if (n > 2147483647ULL) throw sleepnet::error("MpiWorkers: message of " + std::to_string(n) + " bytes");
        return static_cast<int>(n);
    }

    /// Every rank's text, in rank order.
    std::vector<std::string> gather(const std::string& text) const
    {
        int n = count(text.size());
        std::vector<int> sizes(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
        check(MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_), "MPI_Allgather");
        unsigned long long total = 0;
        for (std::size_t r = 0; r < sizes.size(); ++r) {
            offsets[r] = count(total);
            total += static_cast<unsigned long long>(sizes[r]);
        }
        std::string all(static_cast<std::size_t>(total), '\0');
        check(MPI_Allgatherv(text.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, comm_),
              "MPI_Allgatherv");
        std::vector<std::string> out;
        for (std::size_t r = 0; r < sizes.size(); ++r)
            out.push_back(all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(sizes[r])));
        return out;
    }

    /// Puts a candidate evaluated on rank r into its place in the batch.
    static void take(std::vector<TuneCandidate>& batch, const nlohmann::json& line, std::size_t r)
    {
        TuneCandidate c = detail::tune_candidate_from_json(line, "rank " + std::to_string(r));
        c.from_log = false;  // evaluated in this run: the root logs it
        if (batch.empty() || c.index < batch.front().index || c.index - batch.front().index >= batch.size() ||
            batch[c.index - batch.front().index].genes != c.genes)
            throw sleepnet::error("MpiWorkers: rank " + std::to_string(r) + " sent candidate " +
                                  std::to_string(c.index) + ", which is not in this batch (ranks out of step)");
        batch[c.index - batch.front().index] = std::move(c);
    }

    MPI_Comm comm_;
    int rank_ = 0, size_ = 1;
};

}  // namespace sleepnet
