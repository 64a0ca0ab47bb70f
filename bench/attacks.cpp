// bench/attacks: attack throughput on the MNIST network (784-1200-1200-10), both cores.
//
//   attacks [--model DIR] [--data DIR] [--count N] [--small N] [--brute N] [--threads T]
//           [--pgd-eps E] [--pgd-steps N] [--skip-others] [--help]
//
// Without --model a control network is trained first (authors' recipe, 1 epoch).
// FGSM (minimal epsilon, grid and bisection) and DeepFool run on the first --count test
// images (default all 10,000); JSMA and Boundary on the first --small (default 100).
// The FGSM grid runs certified (the default, FgsmOptions::certify) on all --count images
// and as the brute-force scan on the first --brute (default 1,000): the per-image time
// ratio is printed, and the two are checked to agree sample by sample on those images
// (exit status 3 if they do not).
// The baseline measured in the same run is one deterministic forward pass over the same
// images: each attack's cost is also printed in forward passes per image. A second
// baseline, one forward + backward pass (the cross-entropy input gradient, best of 3),
// is what APGD's cost is given in.
// APGD (L-inf, cross-entropy and margin, --pgd-steps steps each, default 50) runs at
// --pgd-eps (default 0.1) on all --count images, then at eps 0, where no input is ever
// broken, so every correctly classified one gets all 2 x (1 + steps) passes: the upper
// bound of its time for any eps. --skip-others runs only the baselines and APGD.
#include <algorithm>
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
#include <sleepnet/attacks/pgd.hpp>
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

struct ApgdTime {
    double seconds = 0.0;
    std::size_t passes = 0;
};

// APGD at budget eps on x: time, robust accuracy, passes made, and the cost against the
// forward + backward baseline.
ApgdTime run_apgd(const char* name, const sleepnet::DenseNetwork<float>& net, const sleepnet::matrix<float>& x,
                  const sleepnet::label_vector& y, double eps, std::size_t steps, double gradient_seconds)
{
    sleepnet::PgdOptions o;  // apgd, linf, {cross_entropy, margin}
    o.steps = steps;
    sleepnet::default_engine eng(5);
    const auto t0 = clock_type::now();
    const auto r = sleepnet::pgd(net, x, y, eps, o, eng);
    const double t = since(t0);
    const std::size_t n = y.size();
    std::size_t passes = 0;
    for (const auto& s : r.samples) passes += s.iterations;
    const double per_image = gradient_seconds / static_cast<double>(n);
    std::printf("  %-16s %6zu images %8.2f s %9.1f images/s  eps %.3g  robust accuracy %.4f  success %.3f\n", name, n,
                t, static_cast<double>(n) / t, eps, r.robust_accuracy(), r.success_rate());
    std::printf("    %.2f forward+backward passes/image made (of at most %zu); %.1fx the baseline pass time, "
                "%.2fx the baseline per pass made\n",
                static_cast<double>(passes) / static_cast<double>(n), o.losses.size() * (steps + 1),
                t / gradient_seconds, passes == 0 ? 0.0 : t / static_cast<double>(passes) / per_image);
    return {t, passes};
}

// The same worst-case workload in PyTorch (bench/pgd_torch.py) when Debian's python3-torch
// is installed: same model, steps and threads, the first min(count, 2000) images (PyTorch
// is slow enough that all 10,000 would take minutes); compared per forward+backward pass.
void torch_comparison(const std::string& model, const std::string& data, std::size_t count, std::size_t steps,
                      unsigned threads, const ApgdTime& ours)
{
    if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
        std::printf("  pytorch: python3-torch not installed (apt install python3-torch), comparison skipped\n");
        return;
    }
    if (model.empty()) {
        std::printf("  pytorch: comparison needs --model DIR, skipped\n");
        return;
    }
    const std::string cmd = "/usr/bin/python3 " SLEEPNET_BENCH_DIR "/pgd_torch.py --model '" + model + "' --data '" +
                            data + "' --count " + std::to_string(std::min<std::size_t>(count, 2000)) + " --steps " +
                            std::to_string(steps) + " --threads " + std::to_string(threads);
    FILE* p = ::popen(cmd.c_str(), "r");
    double seconds = 0.0;
    unsigned long long passes = 0;
    char version[64] = "?";
    const int got = p ? std::fscanf(p, "torch_seconds %lf passes %llu torch %63s", &seconds, &passes, version) : 0;
    if (p) ::pclose(p);
    if (got < 2 || passes == 0 || ours.passes == 0) {
        std::printf("  pytorch: %s failed\n", cmd.c_str());
        return;
    }
    const double per_pass_torch = seconds / static_cast<double>(passes);
    const double per_pass_ours = ours.seconds / static_cast<double>(ours.passes);
    std::printf(
        "  pytorch %s, same worst case (2 losses x (1 + %zu) passes per image, %u threads): %.2f s for %llu passes; "
        "sleepnet %.2f s for %zu passes\n",
        version, steps, threads, seconds, passes, ours.seconds, ours.passes);
    std::printf("    sleepnet is %.2fx faster per pass (goal >= 3x: %s)\n", per_pass_torch / per_pass_ours,
                per_pass_torch / per_pass_ours >= 3.0 ? "met" : "NOT met");
}
}  // namespace

int main(int argc, char** argv)
{
    std::string model, data = "data/mnist";
    std::size_t count = 10000, small = 100, brute = 1000;
    unsigned threads = 2;
    double pgd_eps = 0.1;
    std::size_t pgd_steps = 50;
    bool skip_others = false;
    const char* usage = "usage: attacks [--model DIR] [--data DIR] [--count N] [--small N] [--brute N] [--threads T]\n"
                        "               [--pgd-eps E] [--pgd-steps N] [--skip-others] [--help]\n";
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--help")) {
            std::printf("%s", usage);
            return 0;
        }
        if (!std::strcmp(argv[i], "--skip-others")) {
            skip_others = true;
            continue;
        }
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s", usage);
            return 2;
        }
        if (!std::strcmp(argv[i], "--model"))
            model = argv[i + 1];
        else if (!std::strcmp(argv[i], "--data"))
            data = argv[i + 1];
        else if (!std::strcmp(argv[i], "--count"))
            count = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--small"))
            small = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--brute"))
            brute = std::strtoul(argv[i + 1], nullptr, 10);
        else if (!std::strcmp(argv[i], "--threads"))
            threads = static_cast<unsigned>(std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--pgd-eps"))
            pgd_eps = std::strtod(argv[i + 1], nullptr);
        else if (!std::strcmp(argv[i], "--pgd-steps"))
            pgd_steps = std::strtoul(argv[i + 1], nullptr, 10);
        else {
            std::fprintf(stderr, "%s", usage);
            return 2;
        }
        ++i;
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
        double gradient = 0.0;  // seconds for all count images, best of 3
        for (int rep = 0; rep < 3; ++rep) {
            t0 = clock_type::now();
            const auto g = sleepnet::detail::loss_input_gradient(net, x, y, sleepnet::AttackLoss::cross_entropy);
            const double t = since(t0);
            if (rep == 0 || t < gradient) gradient = t;
        }
        std::printf("  baseline: one forward + backward pass (cross-entropy input gradient, best of 3) %.3f s, "
                    "%.1f us/image (%.2fx the forward pass)\n",
                    gradient, gradient / static_cast<double>(count) * 1e6,
                    gradient / static_cast<double>(count) / forward);
        if (!skip_others) {
            sleepnet::FgsmStats stats;
            sleepnet::FgsmOptions certified;
            certified.stats = &stats;
            t0 = clock_type::now();
            const auto f = sleepnet::fgsm(net, x, y, certified);
            const double t_cert = since(t0);
            report("fgsm (grid)", f, count, t_cert, forward, true);
            std::printf(
                "    certified grid: %.2f segment bounds/image (%.2f certified), %.2f network evaluations/image\n",
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
                const double per_cert = t_cert / static_cast<double>(count),
                             per_brute = t_brute / static_cast<double>(brute);
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
                std::printf("    target (all 10,000 in <= 60 s on 2 cores): %s, %.2f s\n",
                            t_df <= 60.0 ? "met" : "NOT met", t_df);
            t0 = clock_type::now();
            const auto j = sleepnet::jsma(net, xs, ys);
            report("jsma", j, small, since(t0), forward, false);
            sleepnet::default_engine eng(3);
            t0 = clock_type::now();
            const auto b = sleepnet::boundary(net, xs, ys, sleepnet::BoundaryOptions{}, eng);
            report("boundary", b, small, since(t0), forward, false);
        }
        const double t_apgd = run_apgd("apgd-linf", net, x, y, pgd_eps, pgd_steps, gradient).seconds;
        const bool target = count == 10000 && pgd_steps == 50;
        if (target)
            std::printf("    target (APGD 2 losses x 50 steps on 10,000 MNIST images <= 30 s on 2 cores): %s, %.2f s\n",
                        t_apgd <= 30.0 ? "met" : "NOT met", t_apgd);
        const ApgdTime worst = run_apgd("apgd-linf eps=0", net, x, y, 0.0, pgd_steps, gradient);
        const double t_worst = worst.seconds;
        std::printf("    worst case (no input broken, every pass made): %.2f s, the upper bound for any eps\n",
                    t_worst);
        if (target)
            std::printf("    target at the worst case: %s, %.2f s\n", t_worst <= 30.0 ? "met" : "NOT met", t_worst);
        torch_comparison(model, data, count, pgd_steps, threads, worst);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench/attacks: %s\n", e.what());
        return 1;
    }
    return 0;
}
