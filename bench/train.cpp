// bench/train: one epoch of the authors' MNIST network (784-1200-1200-10, batch 100,
// dropout 0.2, MSE on ReLU outputs, SGD + momentum), single-threaded, against the raw
// sgemm calls of the same shapes measured in the same run.
//
//   train [--threads N] [--epochs E] [--samples N]
//
// Prints samples/s, effective GFLOP/s and ratio = (sgemm-only time) / (training time);
// 1.0 means training costs nothing beyond its matrix products. Inputs are uniform random
// pixels: the cost of a step does not depend on the data.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <sleepnet/nn/dense_network.hpp>
#include <sleepnet/nn/loss.hpp>
#include <sleepnet/nn/sgd.hpp>
#include <sleepnet/nn/train.hpp>

extern "C" void openblas_set_num_threads(int);

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0)
{
    return std::chrono::duration<double>(clock_type::now() - t0).count();
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
    const auto t0 = clock_type::now();
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
    return seconds_since(t0);
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

}  // namespace

int main(int argc, char** argv)
{
    int threads = 1;
    int epochs = 1;
    std::size_t samples = 60000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads"))
            threads = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--epochs"))
            epochs = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--samples"))
            samples = static_cast<std::size_t>(std::atol(argv[i + 1]));
        else {
            std::fprintf(stderr, "usage: train [--threads N] [--epochs E] [--samples N]\n");
            return 2;
        }
    }
    openblas_set_num_threads(threads);
    const std::vector<std::size_t> sizes{784, 1200, 1200, 10};
    const std::size_t batch = 100;
    const std::size_t batches = (samples + batch - 1) / batch;

    sleepnet::default_engine engine(1);
    sleepnet::matrix<float> x = sleepnet::matrix<float>::from_shape({samples, 784});
    for (auto& v : x) v = sleepnet::rng::uniform01<float>(engine);
    sleepnet::matrix<float> y = sleepnet::matrix<float>::from_shape({samples, 10});
    y.fill(0.0f);
    for (std::size_t i = 0; i < samples; ++i) y(i, sleepnet::rng::below(engine, 10)) = 1.0f;

    sleepnet::NetworkOptions opt;
    opt.dropout = 0.2;
    sleepnet::SgdOptions sgd;
    sgd.epochs = 1;

    // warm-up (page faults, OpenBLAS buffers)
    sgemm_epoch(sizes, batch, 20);
    double best_train = 1e30, best_gemm = 1e30;
    for (int e = 0; e < epochs; ++e) {
        sleepnet::DenseNetwork<float> net(sizes, opt);
        net.initialize(sleepnet::Init::uniform(0.01), engine);
        const auto t0 = clock_type::now();
        sleepnet::train(net, x, y, sleepnet::MseLoss{}, sgd, engine);
        best_train = std::min(best_train, seconds_since(t0));
        best_gemm = std::min(best_gemm, sgemm_epoch(sizes, batch, batches));
    }
    const double flops = flops_per_epoch(sizes, batch, batches);
    std::printf("bench/train: 784-1200-1200-10, batch %zu, %zu samples, %d thread(s), best of %d\n", batch, samples,
                threads, epochs);
    std::printf("  training epoch : %8.3f s  %9.0f samples/s  %6.1f GFLOP/s (effective)\n", best_train,
                static_cast<double>(samples) / best_train, flops / best_train * 1e-9);
    std::printf("  raw sgemm only : %8.3f s  %9.0f samples/s  %6.1f GFLOP/s\n", best_gemm,
                static_cast<double>(samples) / best_gemm, flops / best_gemm * 1e-9);
    std::printf("  ratio (sgemm time / training time): %.3f  (target >= 0.85)\n", best_gemm / best_train);
    return 0;
}
