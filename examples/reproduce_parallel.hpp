#pragma once
// reproduce: independent pieces of a stage (the cells of Table 1, the curves of each
// network, the attack images of fine-tuning) run side by side on Setup::workers threads.
//
// Every piece draws only from an engine seeded for it (or from none), and the networks'
// deterministic passes give a sample the same bits whatever its batch and the number of
// threads (exact_gemm), so the outputs do not depend on the number of workers nor on
// which piece ends first; only the time does. With workers > 1 each piece gets a copy of
// its network with one inference thread (the pieces share the cores instead of each
// product), its progress bar is silenced and one line per finished piece is printed.
// workers = 1 runs the pieces one after the other, as before, with bars.
#include <cstdio>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <sleepnet/attacks/common.hpp>
#include <sleepnet/callbacks/progress_bar.hpp>
#include <sleepnet/detail/parallel.hpp>

#include "common.hpp"
#include "reproduce_setup.hpp"

namespace repro {

/// A piece of a stage: its label (for the line printed when it ends) and its work.
struct Piece {
    std::string label;
    std::function<void()> work;
};

/// A progress bar on stderr, or (quiet) on a stream nobody reads.
class StageBar {
public:
    StageBar(const std::string& label, bool quiet)
        : bar_(quiet ? sleepnet::ProgressBar(sink_, label) : examples::progress_bar(label))
    {
    }
    sleepnet::ProgressBar& operator*() { return bar_; }

private:
    std::ostringstream sink_;
    sleepnet::ProgressBar bar_;
};

/// The network a piece uses: `net` itself (one worker), else a copy with one inference thread.
inline Net piece_network(const Net& net, unsigned workers)
{
    Net copy = net;
    if (workers > 1) copy.set_inference_threads(1);
    return copy;
}

/// Runs the pieces on up to `workers` threads, longest first as listed (each taken by the
/// next free worker); with several workers (and `report`) a line per finished piece goes to
/// stderr. An exception of a piece is rethrown here once the running pieces have ended.
inline void run_pieces(const std::vector<Piece>& pieces, unsigned workers, bool report = true)
{
    std::mutex print;
    sleepnet::detail::parallel_for(
        pieces.size(), workers,
        [&](std::size_t begin, std::size_t end) {
            for (std::size_t k = begin; k < end; ++k) {
                const auto t0 = Clock::now();
                pieces[k].work();
                if (workers <= 1 || !report) continue;
                std::lock_guard<std::mutex> lock(print);
                std::fprintf(stderr, "reproduce: %s done (%.1f s)\n", pieces[k].label.c_str(), since(t0));
            }
        },
        sleepnet::detail::Schedule::queue);
}

/// attack(net, x, y) -> AttackResult<T> on the rows of x split into `workers` contiguous
/// parts, side by side, each on a copy of `net` with one inference thread; the parts'
/// results joined in row order (sample indices those of x). For attacks whose result for
/// an input does not depend on the other inputs and that draw nothing (DeepFool, JSMA):
/// then the join is the result of one call on all of x.
template <class Attack>
sleepnet::AttackResult<T> split_rows_attack(const Net& net, const sleepnet::matrix<T>& x,
                                            const sleepnet::label_vector& y, unsigned workers, Attack&& attack)
{
    const std::size_t n = x.shape()[0], d = x.shape()[1];
    if (workers <= 1 || n < 2) return attack(net, x, y);
    const std::size_t per = sleepnet::detail::parallel_chunk(n, workers);
    std::vector<sleepnet::AttackResult<T>> parts((n + per - 1) / per);
    std::vector<Piece> pieces;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        pieces.push_back({"rows " + std::to_string(k * per) + "-", [&, k] {
                              const std::size_t a = k * per, b = std::min(n, a + per);
                              const sleepnet::matrix<T> xp = xt::view(x, xt::range(a, b), xt::all());
                              const sleepnet::label_vector yp = xt::view(y, xt::range(a, b));
                              parts[k] = attack(piece_network(net, workers), xp, yp);
                          }});
    }
    run_pieces(pieces, workers, false);
    sleepnet::AttackResult<T> all;
    all.attack = parts[0].attack;
    all.adversarial = sleepnet::matrix<T>::from_shape({n, d});
    for (std::size_t k = 0; k < parts.size(); ++k) {
        const auto& r = parts[k];
        std::copy(r.adversarial.begin(), r.adversarial.end(), all.adversarial.data() + k * per * d);
        for (auto smp : r.samples) {
            smp.index += k * per;
            all.samples.push_back(smp);
        }
    }
    return all;
}

}  // namespace repro
