// docs/callbacks.md
// clang-format off
#include "snippets.hpp"

namespace doc_callbacks {

using Net = sleepnet::DenseNetwork<float>;
using Set = sleepnet::Dataset<float>;

void early_stopping(Net& net, const Set& train, const Set& val, sleepnet::default_engine& engine)
{
// snippet-begin docs/callbacks.md
sleepnet::ProgressBar bar(std::cerr, "train");  // not a terminal: a line every 10%
auto val_accuracy = [&](const sleepnet::DenseNetwork<float>& n) { return sleepnet::accuracy(n, val); };
sleepnet::EarlyStoppingOptions eo;
eo.goal = sleepnet::Goal::maximize;
eo.patience = 3;
sleepnet::EarlyStopping<float> stop(net, val_accuracy, eo);
sleepnet::SgdOptions sgd;
sgd.epochs = 50;
sleepnet::train(net, train, sleepnet::MseLoss{}, sgd, engine, bar, stop);
stop.restore_best();  // the weights of epoch stop.best_epoch(), not those of the last one
// snippet-end
}

void spike_budget(Net& net, const sleepnet::matrix<float>& x, const sleepnet::SleepParams& p,
                  sleepnet::default_engine& engine)
{
// snippet-begin docs/callbacks.md
sleepnet::SpikeBudget budget{100000};
sleepnet::ProgressBar bar(std::cerr, "sleep");
sleepnet::SleepReport r = sleepnet::sleep(net, x, p, engine, bar, budget);
if (budget.exceeded()) {
    // r.steps == budget.stopped_at; the weights are those after that step
}
// snippet-end
}

}  // namespace doc_callbacks

TEST_CASE("docs/callbacks.md: progress bar, early stopping, spike budget (Patches)")
{
    const auto data = doc_snippets::patches_data();
    auto net = doc_snippets::patches_network(data);
    sleepnet::default_engine engine(1);
    doc_callbacks::early_stopping(net, data.train, data.test, engine);
    doc_callbacks::spike_budget(net, data.train.x, sleepnet::sleep_preset("patches"), engine);
}
// clang-format on
