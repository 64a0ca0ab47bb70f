#pragma once
// SpikeBudget: a ready-made sleep callback (on_step) that stops sleep once the spikes of
// all simulated layers together exceed max_spikes, and remembers the step it stopped at.
// Runaway activity (every neuron firing every step) wastes the rest of a run; tune uses
// it as its guard (TuneOptions::max_spikes).
//
//   sleepnet::SpikeBudget budget{1000000};
//   const auto report = sleepnet::sleep(net, x, params, engine, budget);
//   if (budget.exceeded()) { /* report.steps == budget.stopped_at, the weights as of that step */ }
//
// The step that crosses the budget is completed (its weight updates are kept) and sleep
// stops after it: the weights equal those of an unbudgeted run after stopped_at steps.
// The first step of a run resets it, so one budget can watch several runs in turn.

#include <cstdint>

#include "../snn/sleep.hpp"

namespace sleepnet {

struct SpikeBudget {
    std::uint64_t max_spikes = 0;  ///< 0 = no budget (never stops)
    std::size_t stopped_at = 0;    ///< the step after which it stopped sleep, 1-based (0 = never)
    std::uint64_t spikes = 0;      ///< spikes of all layers when it stopped (0 = never)

    bool exceeded() const { return stopped_at > 0; }

    bool on_step(const SleepProgress& p)
    {
        if (p.step <= 1) stopped_at = 0, spikes = 0;  // a new run
        std::uint64_t total = 0;
        for (auto s : p.spikes) total += s;
        if (max_spikes > 0 && total > max_spikes) {
            stopped_at = p.step;
            spikes = total;
        }
        return exceeded();
    }
};

}  // namespace sleepnet
