// bench/sleep: the sleep phase on the MNIST network (784-1200-1200-10) with the authors'
// two presets, event-driven kernel against the plain reference loop (snn/reference.hpp)
// measured in the same run, single-threaded.
//
//   sleep [--model DIR] [--data DIR] [--reference-steps N]
//
// Without --model, a control network is trained first (authors' recipe, 1 epoch).
// The reference loop costs a dense W s per layer per step, so it runs only the first N
// steps (default 3365, the length of mnist-deepfool); the kernel runs the same N steps from the same weights (results
// are checked to be bit-identical) and then the full preset.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sleepnet/data/idx.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/reference.hpp>
#include <sleepnet/snn/sleep.hpp>

extern "C" void openblas_set_num_threads(int);

namespace {
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }
}  // namespace

int main(int argc, char** argv)
{
    std::string model, data = "data/mnist";
    std::size_t ref_steps = 3365;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!std::strcmp(argv[i], "--data"))
            data = argv[i + 1];
        else if (!std::strcmp(argv[i], "--reference-steps"))
            ref_steps = std::strtoul(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "usage: sleep [--model DIR] [--data DIR] [--reference-steps N]\n");
            return 2;
        }
    }
    try {
        const auto mnist = sleepnet::load_mnist<float>(data);
        sleepnet::DenseNetwork<float> control({784, 1200, 1200, 10});
        if (!model.empty()) {
            control = sleepnet::load_model<float>(model);
        } else {
            openblas_set_num_threads(2);
            sleepnet::NetworkOptions opt;
            opt.dropout = 0.2;
            control = sleepnet::DenseNetwork<float>({784, 1200, 1200, 10}, opt);
            sleepnet::default_engine eng(1);
            control.initialize(sleepnet::Init::uniform(0.01), eng);
            sleepnet::SgdOptions sgd;
            sgd.epochs = 1;
            sleepnet::train(control, mnist.train, sleepnet::MseLoss{}, sgd, eng);
            std::printf("trained a control network for 1 epoch: test accuracy %.4f\n",
                        sleepnet::accuracy(control, mnist.test));
        }
        openblas_set_num_threads(1);
        std::printf("bench/sleep: 784-1200-1200-10, single thread\n");
        for (const char* name : {"mnist-fgsm", "mnist-deepfool"}) {
            const auto p = sleepnet::sleep_preset(name);
            const auto alpha = sleepnet::sleep_alpha(control, mnist.train.x, p);
            std::vector<sleepnet::IfLayerParams> params;
            for (std::size_t l = 0; l < 3; ++l) params.push_back({alpha[l], p.thresholds[l]});
            const sleepnet::PoissonOptions po{p.rate, p.dt, p.rate_factor};
            const sleepnet::AuthorsStdp rule{p.inc, p.dec};
            const std::size_t n = std::min(ref_steps, p.steps);

            // same prefix: reference loop and kernel
            auto ref_net = control;
            auto fast_net = control;
            sleepnet::PoissonSequence<float> src_ref(mnist.train.x, po), src_fast(mnist.train.x, po);
            sleepnet::default_engine e1(7), e2(7);
            auto t0 = clock_type::now();
            const auto counts = sleepnet::reference::sleep_loop(sleepnet::weight_views(ref_net, 3), params, p.decay, n,
                                                                src_ref, rule, e1);
            const double t_ref = since(t0);
            t0 = clock_type::now();
            const auto prefix =
                sleepnet::sleep_weights(sleepnet::weight_views(fast_net, 3), params, p.decay, n, src_fast, rule, e2);
            const double t_fast_prefix = since(t0);
            bool identical = counts.spikes == prefix.spikes;
            for (std::size_t l = 0; l < 3; ++l) identical = identical && ref_net.weights(l) == fast_net.weights(l);

            // full preset
            auto net = control;
            sleepnet::default_engine e3(7);
            t0 = clock_type::now();
            const auto report = sleepnet::sleep(net, mnist.train.x, p, e3);
            const double t_full = since(t0);
            std::uint64_t events = report.input_spikes;
            for (std::size_t l = 0; l < 3; ++l) events += report.spikes[l];
            double synaptic = static_cast<double>(report.input_spikes) * 1200.0 +
                              static_cast<double>(report.spikes[0]) * 1200.0 +
                              static_cast<double>(report.spikes[1]) * 10.0;
            std::printf(
                "%s (%zu steps): %.3f s total (%.3f s in the sleep loop), %.0f steps/s, %.3g synaptic events/s\n", name,
                p.steps, t_full, report.seconds, static_cast<double>(p.steps) / report.seconds,
                synaptic / report.seconds);
            std::printf(
                "  spikes per layer (input, 1, 2, 3): %llu %llu %llu %llu; weights changed %zu %zu %zu\n",
                static_cast<unsigned long long>(report.input_spikes), static_cast<unsigned long long>(report.spikes[0]),
                static_cast<unsigned long long>(report.spikes[1]), static_cast<unsigned long long>(report.spikes[2]),
                report.weights_changed[0], report.weights_changed[1], report.weights_changed[2]);
            std::printf("  first %zu steps: reference loop %.3f s, kernel %.4f s, ratio %.1fx, results %s\n", n, t_ref,
                        t_fast_prefix, t_ref / t_fast_prefix, identical ? "bit-identical" : "DIFFERENT");
            std::printf("  test accuracy after sleep: %.4f (before %.4f)\n", sleepnet::accuracy(net, mnist.test),
                        sleepnet::accuracy(control, mnist.test));
            (void)events;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench/sleep: %s\n", e.what());
        return 1;
    }
    return 0;
}
