// bench/attacks: attack throughput on the MNIST network (784-1200-1200-10), both cores.
//
//   attacks [--model DIR] [--data DIR] [--count N] [--small N] [--brute N] [--threads T]
//
// Without --model a control network is trained first (authors' recipe, 1 epoch).
// FGSM (minimal epsilon, grid and bisection) and DeepFool run on the first --count test
// images (default all 10,000); JSMA and Boundary on the first --small (default 100).
// The FGSM grid runs certified (the default, FgsmOptions::certify) on all --count images
// and as the brute-force scan on the first --brute (default 1,000): the per-image time
// ratio is printed, and the two are checked to agree sample by sample on those images
// (exit status 3 if they do not).
// The baseline measured in the same run is one deterministic forward pass over the same
// images: each attack's cost is also printed in forward passes per image.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <cstring>
#include <string>

#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/data/idx.hpp>
#include <sleepnet/nn/io.hpp>
#include <sleepnet/nn/train.hpp>

extern "C" void openblas_set_num_threads(int);

namespace {
using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

template <class R>
void report(const char* name, const R& r, std::size_t n, double seconds, double forward_seconds_per_image, bool eps)
{
    std::printf("  %-16s %6zu images %8.2f s %9.1f images/s  %7.1f forward passes/image  score %.5g  success %.3f\n",
                name, n, seconds, static_cast<double>(n) / seconds,
                seconds / static_cast<double>(n) / forward_seconds_per_image,
                eps ? r.median_epsilon() : r.median_distance(), r.success_rate());
}
}  // namespace

int main(int argc, char** argv)
{
    std::string model, data = "data/mnist";
    std::size_t count = 10000, small = 100, brute = 1000;
    unsigned threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!std::strcmp(argv[i], "--data")) data = argv[i + 1];
        else if (!std::strcmp(argv[i], "--count")) count = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--small")) small = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--brute")) brute = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
        else {
            std::fprintf(stderr, "usage: attacks [--model DIR] [--data DIR] [--count N] [--small N] [--brute N] [--threads T]\n");
            return 2;
        }
    }
    try {
        const auto mnist = sleepnet::load_mnist<float>(data);
        sleepnet::DenseNetwork<float> net({784, 1200, 1200, 10});
        openblas_set_num_threads(static_cast<int>(threads));
        if (!model.empty()) {
            net = sleepnet::load_model<float>(model);
        } else {
            sleepnet::NetworkOptions opt;
            opt.dropout = 0.2;
            net = sleepnet::DenseNetwork<float>({784, 1200, 1200, 10}, opt);
            sleepnet::default_engine eng(1);
            net.initialize(sleepnet::Init::uniform(0.01), eng);
            sleepnet::SgdOptions sgd;
            sgd.epochs = 1;
            sleepnet::train(net, mnist.train, sleepnet::MseLoss{}, sgd, eng);
        }
        net.set_inference_threads(threads);
        count = std::min(count, mnist.test.size());
        small = std::min(small, count);
        const sleepnet::matrix<float> x = xt::view(mnist.test.x, xt::range(0, count), xt::all());
        const sleepnet::label_vector y = xt::view(mnist.test.y, xt::range(0, count));
        const sleepnet::matrix<float> xs = xt::view(x, xt::range(0, small), xt::all());
        const sleepnet::label_vector ys = xt::view(y, xt::range(0, small));

        auto t0 = clock_type::now();
        const double acc = sleepnet::accuracy(net, x, y);
        const double forward = since(t0) / static_cast<double>(count);
        std::printf("bench/attacks: 784-1200-1200-10, %u threads, clean accuracy %.4f\n", threads, acc);
        std::printf("  baseline: one forward pass %.1f us/image (%.0f images/s)\n", forward * 1e6, 1.0 / forward);

        sleepnet::FgsmStats stats;
        sleepnet::FgsmOptions certified;
        certified.stats = &stats;
        t0 = clock_type::now();
        const auto f = sleepnet::fgsm(net, x, y, certified);
        const double t_cert = since(t0);
        report("fgsm (grid)", f, count, t_cert, forward, true);
        std::printf("    certified grid: %.2f segment bounds/image (%.2f certified), %.2f network evaluations/image\n",
                    static_cast<double>(stats.bounds) / static_cast<double>(count),
                    static_cast<double>(stats.certified) / static_cast<double>(count),
                    static_cast<double>(stats.evaluations) / static_cast<double>(count));
        if (count == 10000)
            std::printf("    target (all 10,000 MNIST test images in <= 10 s on 2 cores): %s, %.2f s\n",
                        t_cert <= 10.0 ? "met" : "NOT met", t_cert);
        brute = std::min(brute, count);
        if (brute > 0) {
            const sleepnet::matrix<float> xb = xt::view(x, xt::range(0, brute), xt::all());
            const sleepnet::label_vector yb = xt::view(y, xt::range(0, brute));
            sleepnet::FgsmOptions bf;
            bf.certify = false;
            t0 = clock_type::now();
            const auto fb = sleepnet::fgsm(net, xb, yb, bf);
            const double t_brute = since(t0);
            report("fgsm (brute)", fb, brute, t_brute, forward, true);
            std::size_t differ = 0;
            for (std::size_t i = 0; i < brute; ++i) {
                const auto& a = f.samples[i];
                const auto& b = fb.samples[i];
                const bool same_eps = a.epsilon == b.epsilon || (std::isnan(a.epsilon) && std::isnan(b.epsilon));
                if (!same_eps || a.success != b.success || a.iterations != b.iterations ||
                    a.adversarial_prediction != b.adversarial_prediction)
                    ++differ;
            }
            const double per_cert = t_cert / static_cast<double>(count), per_brute = t_brute / static_cast<double>(brute);
            std::printf("    brute-force grid on the first %zu images: %.2f ms/image vs certified %.3f ms/image, "
                        "ratio %.1fx (brute-force estimate for all %zu: %.1f s); %s\n",
                        brute, per_brute * 1e3, per_cert * 1e3, per_brute / per_cert, count,
                        per_brute * static_cast<double>(count),
                        differ == 0 ? "results identical (epsilon, success, iterations, prediction)"
                                    : "RESULTS DIFFER");
            if (differ != 0) {
                std::fprintf(stderr, "bench/attacks: certified and brute-force grid differ on %zu of %zu images\n",
                             differ, brute);
                return 3;
            }
        }
        sleepnet::FgsmOptions bis;
        bis.search = sleepnet::FgsmSearch::bisection;
        t0 = clock_type::now();
        const auto fb = sleepnet::fgsm(net, x, y, bis);
        report("fgsm (bisection)", fb, count, since(t0), forward, true);
        t0 = clock_type::now();
        const auto d = sleepnet::deepfool(net, x, y);
        const double t_df = since(t0);
        report("deepfool", d, count, t_df, forward, false);
        if (count == 10000)
            std::printf("    target (all 10,000 in <= 60 s on 2 cores): %s, %.2f s\n", t_df <= 60.0 ? "met" : "NOT met",
                        t_df);
        t0 = clock_type::now();
        const auto j = sleepnet::jsma(net, xs, ys);
        report("jsma", j, small, since(t0), forward, false);
        sleepnet::default_engine eng(3);
        t0 = clock_type::now();
        const auto b = sleepnet::boundary(net, xs, ys, sleepnet::BoundaryOptions{}, eng);
        report("boundary", b, small, since(t0), forward, false);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench/attacks: %s\n", e.what());
        return 1;
    }
    return 0;
}
