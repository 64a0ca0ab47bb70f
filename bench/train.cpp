// bench/train: one epoch of the authors' MNIST network (784-1200-1200-10, batch 100,
// dropout 0.2, MSE on ReLU outputs, SGD + momentum), single-threaded, against the raw
// sgemm calls of the same shapes measured in the same run.
//
//   train [--threads N] [--epochs E] [--samples N] [--help]
//
// Prints samples/s, effective GFLOP/s and ratio = (sgemm-only time) / (training time);
// 1.0 means training costs nothing beyond its matrix products. Inputs are uniform random
// pixels: the cost of a step does not depend on the data.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/nn/dense_network.hpp>
#include <sleepnet/nn/loss.hpp>
#include <sleepnet/nn/sgd.hpp>
#include <sleepnet/nn/train.hpp>

#include "bench_common.hpp"

namespace {

struct Args {
    int threads = 1;
    int epochs = 1;
    std::size_t samples = 60000;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--threads", a.threads, "OpenBLAS threads")->capture_default_str()->check(bench::at_least(1));
    app.add_option("--epochs", a.epochs, "epochs measured (one each, the best is reported)")
        ->capture_default_str()
        ->check(bench::at_least(1));
    app.add_option("--samples", a.samples, "samples per epoch")->capture_default_str()->check(bench::at_least(1));
}

// The gemm calls one training step makes, with the same shapes, on scratch buffers.
double sgemm_epoch(const std::vector<std::size_t>& sizes, std::size_t batch, std::size_t batches)
{
    const std::size_t layers = sizes.size() - 1;
    std::vector<std::vector<float>> w(layers), v(layers), act(layers + 1), delta(layers + 1);
    for (std::size_t l = 0; l < layers; ++l) {
        w[l].assign(sizes[l + 1] * sizes[l], 0.001f);
        v[l].assign(sizes[l + 1] * sizes[l], 0.0f);
    }
    for (std::size_t l = 0; l <= layers; ++l) {
        act[l].assign(batch * sizes[l], 0.5f);
        delta[l].assign(batch * sizes[l], 0.01f);
    }
    const auto t0 = bench::clock_type::now();
    for (std::size_t b = 0; b < batches; ++b) {
        for (std::size_t l = 0; l < layers; ++l) {
            sleepnet::detail::gemm(false, true, batch, sizes[l + 1], sizes[l], 1.0f, act[l].data(), sizes[l],
                                   w[l].data(), sizes[l], 0.0f, act[l + 1].data(), sizes[l + 1]);
        }
        for (std::size_t l = layers; l-- > 0;) {
            sleepnet::detail::gemm(true, false, sizes[l + 1], sizes[l], batch, 0.1f, delta[l + 1].data(), sizes[l + 1],
                                   act[l].data(), sizes[l], 0.5f, v[l].data(), sizes[l]);
            if (l > 0) {
                sleepnet::detail::gemm(false, false, batch, sizes[l], sizes[l + 1], 1.0f, delta[l + 1].data(),
                                       sizes[l + 1], w[l].data(), sizes[l], 0.0f, delta[l].data(), sizes[l]);
            }
        }
    }
    return bench::since(t0);
}

double flops_per_epoch(const std::vector<std::size_t>& sizes, std::size_t batch, std::size_t batches)
{
    double f = 0.0;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        const double mnk = 2.0 * static_cast<double>(batch * sizes[l] * sizes[l + 1]);
        f += l == 0 ? 2.0 * mnk : 3.0 * mnk;
    }
    return f * static_cast<double>(batches);
}

/// Uniform random pixels and random one-hot targets (the cost of a step does not depend on the data).
std::pair<sleepnet::matrix<float>, sleepnet::matrix<float>> random_data(std::size_t samples,
                                                                        sleepnet::default_engine& engine)
{
    sleepnet::matrix<float> x = sleepnet::matrix<float>::from_shape({samples, 784});
    for (auto& v : x) v = sleepnet::rng::uniform01<float>(engine);
    sleepnet::matrix<float> y = sleepnet::matrix<float>::from_shape({samples, 10});
    y.fill(0.0f);
    for (std::size_t i = 0; i < samples; ++i) y(i, sleepnet::rng::below(engine, 10)) = 1.0f;
    return {std::move(x), std::move(y)};
}

int run(const Args& a)
{
    openblas_set_num_threads(a.threads);
    const std::vector<std::size_t>& sizes = bench::mnist_sizes();
    const std::size_t batch = 100;
    const std::size_t batches = (a.samples + batch - 1) / batch;
    sleepnet::default_engine engine(1);
    const auto [x, y] = random_data(a.samples, engine);
    sleepnet::NetworkOptions opt;
    opt.dropout = 0.2;
    sleepnet::SgdOptions sgd;
    sgd.epochs = 1;

    // warm-up (page faults, OpenBLAS buffers)
    sgemm_epoch(sizes, batch, 20);
    double best_train = 1e30, best_gemm = 1e30;
    for (int e = 0; e < a.epochs; ++e) {
        sleepnet::DenseNetwork<float> net(sizes, opt);
        net.initialize(sleepnet::Init::uniform(0.01), engine);
        const auto t0 = bench::clock_type::now();
        sleepnet::train(net, x, y, sleepnet::MseLoss{}, sgd, engine);
        best_train = std::min(best_train, bench::since(t0));
        best_gemm = std::min(best_gemm, sgemm_epoch(sizes, batch, batches));
    }
    const double flops = flops_per_epoch(sizes, batch, batches);
    std::printf("bench/train: 784-1200-1200-10, batch %zu, %zu samples, %d thread(s), best of %d\n", batch, a.samples,
                a.threads, a.epochs);
    std::printf("  training epoch : %8.3f s  %9.0f samples/s  %6.1f GFLOP/s (effective)\n", best_train,
                static_cast<double>(a.samples) / best_train, flops / best_train * 1e-9);
    std::printf("  raw sgemm only : %8.3f s  %9.0f samples/s  %6.1f GFLOP/s\n", best_gemm,
                static_cast<double>(a.samples) / best_gemm, flops / best_gemm * 1e-9);
    bench::print_ratio_line("sgemm time / training time", best_gemm / best_train, "target >= 0.85");
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"bench/train: one epoch of the authors' MNIST network (784-1200-1200-10, batch 100), against the raw "
                 "sgemm calls of the same shapes measured in the same run"};
    Args args;
    add_options(app, args);
    CLI11_PARSE(app, argc, argv);
    return bench::guarded("bench/train", [&] { return run(args); });
}
