#pragma once
// Shared setup of the benchmark programs: timing, the MNIST data and control network,
// the "met / NOT met" target lines and the ratio line, error handling around main.
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/data/idx.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

extern "C" void openblas_set_num_threads(int);

namespace bench {

using clock_type = std::chrono::steady_clock;

/// Seconds since t0.
inline double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

/// Runs f() and returns {its result, seconds taken}.
template <class F>
auto timed(F&& f)
{
    const auto t0 = clock_type::now();
    auto result = std::forward<F>(f)();
    return std::make_pair(std::move(result), since(t0));
}

/// The MNIST network of the benchmarks: 784-1200-1200-10.
inline const std::vector<std::size_t>& mnist_sizes()
{
    static const std::vector<std::size_t> sizes{784, 1200, 1200, 10};
    return sizes;
}

/// The control network: loaded from `model` when given, else trained on `train` by the
/// authors' recipe (dropout 0.2, uniform(0.01) init, MSE, 1 epoch, engine seeded 1).
inline sleepnet::DenseNetwork<float> control_network(const std::string& model, const sleepnet::Dataset<float>& train)
{
    if (!model.empty()) return sleepnet::load_model<float>(model);
    sleepnet::NetworkOptions opt;
    opt.dropout = 0.2;
    sleepnet::DenseNetwork<float> net(mnist_sizes(), opt);
    sleepnet::default_engine eng(1);
    net.initialize(sleepnet::Init::uniform(0.01), eng);
    sleepnet::SgdOptions sgd;
    sgd.epochs = 1;
    sleepnet::train(net, train, sleepnet::MseLoss{}, sgd, eng);
    return net;
}

/// A CLI11 check: the value is an integer >= least ("--count: must be an integer >= 1, got '0'").
/// Unsigned options need it: CLI11 (like strtoul) would read -1 as a huge number.
inline CLI::Validator at_least(long long least)
{
    return CLI::Validator(
        [least](std::string& value) -> std::string {
            long long v = 0;
            if (CLI::detail::lexical_cast(value, v) && v >= least) return {};
            return "must be an integer >= " + std::to_string(least) + ", got '" + value + "'";
        },
        least == 1   ? "POSITIVE"
        : least == 0 ? "NONNEGATIVE"
                     : ">=" + std::to_string(least));
}

inline const char* met(bool ok) { return ok ? "met" : "NOT met"; }

/// "    target (WHAT): met, 1.23 s" (or NOT met when seconds > limit).
inline void print_target(const char* what, double seconds, double limit)
{
    std::printf("    target (%s): %s, %.2f s\n", what, met(seconds <= limit), seconds);
}

/// "  ratio (WHAT): 0.912  (NOTE)": a measurement against a baseline of the same run.
inline void print_ratio_line(const char* what, double ratio, const char* note)
{
    std::printf("  ratio (%s): %.3f  (%s)\n", what, ratio, note);
}

/// Runs body() and turns an exception into "PROGRAM: message" on stderr and exit code 1.
template <class F>
int guarded(const char* program, F&& body)
{
    try {
        return body();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        return 1;
    }
}

}  // namespace bench
