// bench/sleep: the sleep phase on the MNIST network (784-1200-1200-10) with the authors'
// two presets, event-driven kernel against the plain reference loop (snn/reference.hpp)
// measured in the same run, single-threaded.
//
//   sleep [--model DIR] [--data DIR] [--reference-steps N] [--help]
//
// Without --model, a control network is trained first (authors' recipe, 1 epoch).
// The reference loop costs a dense W s per layer per step, so it runs only the first N
// steps (default 3365, the length of mnist-deepfool); the kernel runs the same N steps from the same weights (results
// are checked to be bit-identical) and then the full preset.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/snn/reference.hpp>
#include <sleepnet/snn/sleep.hpp>

#include "bench_common.hpp"

namespace {

struct Args {
    std::string model, data = "data/mnist";
    std::size_t ref_steps = 3365;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model, "model directory (default: train a control network for 1 epoch)");
    app.add_option("--data", a.data, "MNIST directory")->capture_default_str();
    app.add_option("--reference-steps", a.ref_steps, "steps of the reference loop (and of the kernel beside it)")
        ->capture_default_str()
        ->check(bench::at_least(0));
}

/// The first n steps of preset p, reference loop against kernel from the same weights.
struct Prefix {
    std::size_t steps = 0;
    double reference_seconds = 0.0, kernel_seconds = 0.0;
    bool identical = false;
};

Prefix compare_prefix(const sleepnet::DenseNetwork<float>& control, const sleepnet::matrix<float>& x,
                      const sleepnet::SleepParams& p, const std::vector<double>& alpha, std::size_t n)
{
    std::vector<sleepnet::IfLayerParams> params;
    for (std::size_t l = 0; l < 3; ++l) params.push_back({alpha[l], p.thresholds[l]});
    const sleepnet::PoissonOptions po{p.rate, p.dt, p.rate_factor};
    const sleepnet::AuthorsStdp rule{p.inc, p.dec};
    auto ref_net = control;
    auto fast_net = control;
    sleepnet::PoissonSequence<float> src_ref(x, po), src_fast(x, po);
    sleepnet::default_engine e1(7), e2(7);
    Prefix r;
    r.steps = n;
    const auto [counts, t_ref] = bench::timed([&] {
        return sleepnet::reference::sleep_loop(sleepnet::weight_views(ref_net, 3), params, p.decay, n, src_ref, rule,
                                               e1);
    });
    const auto [prefix, t_fast] = bench::timed([&] {
        return sleepnet::sleep_weights(sleepnet::weight_views(fast_net, 3), params, p.decay, n, src_fast, rule, e2);
    });
    r.reference_seconds = t_ref;
    r.kernel_seconds = t_fast;
    r.identical = counts.spikes == prefix.spikes;
    for (std::size_t l = 0; l < 3; ++l) r.identical = r.identical && ref_net.weights(l) == fast_net.weights(l);
    return r;
}

/// One preset: the reference loop against the kernel on the first --reference-steps steps,
/// then the full preset with the kernel.
void bench_preset(const char* name, const sleepnet::DenseNetwork<float>& control,
                  const sleepnet::DataSplits<float>& mnist, std::size_t ref_steps)
{
    const auto p = sleepnet::sleep_preset(name);
    const auto alpha = sleepnet::sleep_alpha(control, mnist.train.x, p);
    const Prefix pre = compare_prefix(control, mnist.train.x, p, alpha, std::min(ref_steps, p.steps));
    auto net = control;
    sleepnet::default_engine e3(7);
    const auto [report, t_full] = bench::timed([&] { return sleepnet::sleep(net, mnist.train.x, p, e3); });
    const double synaptic = static_cast<double>(report.input_spikes) * 1200.0 +
                            static_cast<double>(report.spikes[0]) * 1200.0 +
                            static_cast<double>(report.spikes[1]) * 10.0;
    std::printf("%s (%zu steps): %.3f s total (%.3f s in the sleep loop), %.0f steps/s, %.3g synaptic events/s\n", name,
                p.steps, t_full, report.seconds, static_cast<double>(p.steps) / report.seconds,
                synaptic / report.seconds);
    std::printf("  spikes per layer (input, 1, 2, 3): %llu %llu %llu %llu; weights changed %zu %zu %zu\n",
                static_cast<unsigned long long>(report.input_spikes), static_cast<unsigned long long>(report.spikes[0]),
                static_cast<unsigned long long>(report.spikes[1]), static_cast<unsigned long long>(report.spikes[2]),
                report.weights_changed[0], report.weights_changed[1], report.weights_changed[2]);
    std::printf("  first %zu steps: reference loop %.3f s, kernel %.4f s, ratio %.1fx, results %s\n", pre.steps,
                pre.reference_seconds, pre.kernel_seconds, pre.reference_seconds / pre.kernel_seconds,
                pre.identical ? "bit-identical" : "DIFFERENT");
    std::printf("  test accuracy after sleep: %.4f (before %.4f)\n", sleepnet::accuracy(net, mnist.test),
                sleepnet::accuracy(control, mnist.test));
}

int run(const Args& a)
{
    const auto mnist = sleepnet::load_mnist<float>(a.data);
    if (a.model.empty()) openblas_set_num_threads(2);
    const sleepnet::DenseNetwork<float> control = bench::control_network(a.model, mnist.train);
    if (a.model.empty())
        std::printf("trained a control network for 1 epoch: test accuracy %.4f\n",
                    sleepnet::accuracy(control, mnist.test));
    openblas_set_num_threads(1);
    std::printf("bench/sleep: 784-1200-1200-10, single thread\n");
    for (const char* name : {"mnist-fgsm", "mnist-deepfool"}) bench_preset(name, control, mnist, a.ref_steps);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"bench/sleep: the sleep phase on the MNIST network (784-1200-1200-10), event-driven kernel against "
                 "the reference loop measured in the same run, single-threaded"};
    Args args;
    add_options(app, args);
    CLI11_PARSE(app, argc, argv);
    return bench::guarded("bench/sleep", [&] { return run(args); });
}
