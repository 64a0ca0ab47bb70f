// docs/tune.md
// clang-format off
#include "snippets.hpp"

namespace doc_tune {

using Net = sleepnet::DenseNetwork<float>;

// writes tune.jsonl into the working directory (100 candidates: well under a second on a
// 100 -> 4 Patches network)
void tune(const sleepnet::matrix<float>& train_x, const sleepnet::matrix<float>& val_x,
          const sleepnet::label_vector& val_y, const Net& control, Net& control_copy)
{
// snippet-begin docs/tune.md
#include <sleepnet/tune/search.hpp>
#include <sleepnet/tune/objective.hpp>

sleepnet::TuneData<float> data{train_x, val_x, val_y};   // sleep input, validation split
sleepnet::TuneOptions opts;            // genetic, budget 100, accuracy drop <= 0.03
opts.log_path = "tune.jsonl";          // resumable
sleepnet::default_engine engine(1);    // draws the candidates
sleepnet::CandidateEngines<> engines{sleepnet::default_engine(1),   // every candidate's sleep and
                                     sleepnet::default_engine(1)};  // refit copy these
auto r = sleepnet::tune_sleep(control, data, sleepnet::SearchSpace{},
                              sleepnet::FgsmObjective{}, opts, engines, engine /*, callbacks */);
sleepnet::SleepParams best = r.best_params();
sleepnet::default_engine spikes = engines.sleep;
sleepnet::sleep(control_copy, train_x, best, spikes);  // reproduces the winner exactly
// snippet-end
}

}  // namespace doc_tune

TEST_CASE("docs/tune.md: tune_sleep (Patches)")
{
    std::remove("tune.jsonl");   // the snippet's log; an old one would be resumed
    const auto data = doc_snippets::patches_data();
    const auto control = doc_snippets::patches_network(data);
    auto control_copy = control;
    doc_tune::tune(data.train.x, data.test.x, data.test.y, control, control_copy);
}
