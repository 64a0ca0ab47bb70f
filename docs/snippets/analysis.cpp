// docs/analysis.md
// clang-format off
#include "snippets.hpp"

namespace doc_analysis {

using Net = sleepnet::DenseNetwork<float>;

// `net`: a one-layer Patches network (100 -> 4); `data`, `control`, `slept`: MNIST in the
// docs, here Patches with ten classes (12x12 images) and a 144-120-10 network.
void overview(const Net& net, const sleepnet::DataSplits<float>& data, const Net& control, const Net& slept)
{
// snippet-begin docs/analysis.md
#include <sleepnet/sleepnet.hpp>

// Patches: how far apart are the weights from ON and from OFF pixels?
sleepnet::default_engine engine(1);
auto patches = sleepnet::make_patches<float>(engine);
auto protos = sleepnet::class_prototypes(patches.train);         // = the four images
auto spread = sleepnet::weight_spread(net, protos);              // layer 0 of a 100 -> 4 network
auto fig4 = sleepnet::weight_scatter_json(net.weights(0), protos);

// MNIST: correlations per layer, slept minus control, on noisy test images
auto noisy = sleepnet::gaussian_noise(data.test.x, 0.3, sleepnet::NoiseLevel::variance, engine);
auto before = sleepnet::layer_correlations(control, noisy, data.test.y, 10,
                                           sleepnet::CorrelationMethod::mean_pairwise);
auto after = sleepnet::layer_correlations(slept, noisy, data.test.y, 10,
                                          sleepnet::CorrelationMethod::mean_pairwise);
auto diff = sleepnet::correlation_difference(after, before);    // Fig. 9

// class-selective neurons (top 100 per digit), control -> slept
auto sel = sleepnet::class_selectivity(control, slept, noisy, data.test.y, 10);   // Fig. 12
// snippet-end
    CHECK(spread.classes.size() == 4);
}

}  // namespace doc_analysis

TEST_CASE("docs/analysis.md: overview (Patches)")
{
    const auto net = doc_snippets::patches_network(doc_snippets::patches_data());
    const auto data = doc_snippets::patches10_data();
    const auto control = doc_snippets::patches_network(data, {144, 120, 10});
    auto slept = control;
    sleepnet::default_engine engine(2);
    sleepnet::SleepParams p = sleepnet::sleep_preset("patches");
    p.thresholds = {1.045, 0.715};
    sleepnet::sleep(slept, data.train.x, p, engine);
    doc_analysis::overview(net, data, control, slept);
}
