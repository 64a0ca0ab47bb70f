// bench/attacks: attack throughput on the MNIST network (784-1200-1200-10), both cores.
//
//   attacks [--model DIR] [--data DIR] [--count N] [--small N] [--brute N] [--threads T]
//           [--pgd-eps E] [--pgd-steps N] [--minimal N] [--curve N] [--skip-others] [--help]
//
// Without --model a control network is trained first (authors' recipe, 1 epoch).
// FGSM (minimal epsilon, grid and bisection) and DeepFool run on the first --count test
// images (default all 10,000); JSMA and Boundary on the first --small (default 100).
// The FGSM grid runs certified (the default, FgsmOptions::grid.certify) on all --count images
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
// The minimal-eps search (pgd_minimal, 100 steps) then runs on the first --minimal images
// (default 300) twice: bisection (the baseline) and reproduce's warm search; the ratio of
// their times and passes is printed, with how far the per-image budgets differ.
// The FGSM accuracy curve on the authors' grid (eps 0 : 0.005 : 0.4, reproduce's Fig. 1)
// runs on the first --curve images (default all --count) brute force (the baseline) and
// certified (fgsm_curve's default); the time ratio is printed and the two curves are
// checked to be equal (exit status 3 if they are not).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/deepfool.hpp>
#include <sleepnet/attacks/fgsm.hpp>
#include <sleepnet/attacks/jsma.hpp>
#include <sleepnet/attacks/pgd.hpp>

#include "bench_common.hpp"

namespace {
using bench::clock_type;
using bench::since;

struct Args {
    std::string model, data = "data/mnist";
    std::size_t count = 10000, small = 100, brute = 1000;
    unsigned threads = 2;
    double pgd_eps = 0.1;
    std::size_t pgd_steps = 50;
    std::size_t minimal = 300;
    std::size_t curve = 10000;
    bool skip_others = false;
};

void add_options(CLI::App& app, Args& a)
{
    app.add_option("--model", a.model, "model directory (default: train a control network for 1 epoch)");
    app.add_option("--data", a.data, "MNIST directory")->capture_default_str();
    app.add_option("--count", a.count, "test images for FGSM, DeepFool and APGD")
        ->capture_default_str()
        ->check(bench::at_least(1));
    app.add_option("--small", a.small, "test images for JSMA and Boundary")
        ->capture_default_str()
        ->check(bench::at_least(0));
    app.add_option("--brute", a.brute, "test images for the brute-force FGSM grid (0 = skip)")
        ->capture_default_str()
        ->check(bench::at_least(0));
    app.add_option("--threads", a.threads, "OpenBLAS and inference threads")
        ->capture_default_str()
        ->check(bench::at_least(1));
    app.add_option("--pgd-eps", a.pgd_eps, "APGD L-inf budget")->capture_default_str();
    app.add_option("--pgd-steps", a.pgd_steps, "APGD steps per loss")->capture_default_str()->check(bench::at_least(0));
    app.add_option("--minimal", a.minimal,
                   "test images for the minimal-eps APGD searches, bisection against warm start (0 = skip)")
        ->capture_default_str()
        ->check(bench::at_least(0));
    app.add_option("--curve", a.curve,
                   "test images for the FGSM accuracy curve, brute force against certified (0 = skip)")
        ->capture_default_str();
    app.add_flag("--skip-others", a.skip_others, "run only the baselines and APGD");
}

/// The images attacked: the first `count` test images (x, y) and the first `small` (xs, ys).
struct Inputs {
    std::size_t count, small;
    sleepnet::matrix<float> x, xs;
    sleepnet::label_vector y, ys;
};

Inputs first_images(const sleepnet::Dataset<float>& test, std::size_t count, std::size_t small)
{
    Inputs in;
    in.count = std::min(count, test.size());
    in.small = std::min(small, in.count);
    in.x = xt::view(test.x, xt::range(0, in.count), xt::all());
    in.y = xt::view(test.y, xt::range(0, in.count));
    in.xs = xt::view(in.x, xt::range(0, in.small), xt::all());
    in.ys = xt::view(in.y, xt::range(0, in.small));
    return in;
}

/// The baselines of the same run, in seconds: one forward pass per image, and one forward +
/// backward pass over all images (best of 3).
struct Baselines {
    double forward = 0.0;
    double gradient = 0.0;
};

Baselines measure_baselines(const sleepnet::DenseNetwork<float>& net, const Inputs& in, unsigned threads)
{
    Baselines b;
    const auto [acc, t_acc] = bench::timed([&] { return sleepnet::accuracy(net, in.x, in.y); });
    b.forward = t_acc / static_cast<double>(in.count);
    std::printf("bench/attacks: 784-1200-1200-10, %u threads, clean accuracy %.4f\n", threads, acc);
    std::printf("  baseline: one forward pass %.1f us/image (%.0f images/s)\n", b.forward * 1e6, 1.0 / b.forward);
    for (int rep = 0; rep < 3; ++rep) {
        const auto t0 = clock_type::now();
        const auto g = sleepnet::detail::loss_input_gradient(net, in.x, in.y, sleepnet::AttackLoss::cross_entropy);
        const double t = since(t0);
        if (rep == 0 || t < b.gradient) b.gradient = t;
    }
    std::printf("  baseline: one forward + backward pass (cross-entropy input gradient, best of 3) %.3f s, "
                "%.1f us/image (%.2fx the forward pass)\n",
                b.gradient, b.gradient / static_cast<double>(in.count) * 1e6,
                b.gradient / static_cast<double>(in.count) / b.forward);
    return b;
}

template <class R>
void report(const char* name, const R& r, std::size_t n, double seconds, double forward_seconds_per_image, bool eps)
{
    std::printf("  %-16s %6zu images %8.2f s %9.1f images/s  %7.1f forward passes/image  score %.5g  success %.3f\n",
                name, n, seconds, static_cast<double>(n) / seconds,
                seconds / static_cast<double>(n) / forward_seconds_per_image,
                eps ? r.median_epsilon() : r.median_distance(), r.success_rate());
}

/// Images of the first brute on which the certified and the brute-force grid disagree.
template <class R>
std::size_t differing_samples(const R& certified, const R& brute_force, std::size_t brute)
{
    std::size_t differ = 0;
    for (std::size_t i = 0; i < brute; ++i) {
        const auto& a = certified.samples[i];
        const auto& b = brute_force.samples[i];
        const bool same_eps = a.epsilon == b.epsilon || (std::isnan(a.epsilon) && std::isnan(b.epsilon));
        if (!same_eps || a.success != b.success || a.iterations != b.iterations ||
            a.adversarial_prediction != b.adversarial_prediction)
            ++differ;
    }
    return differ;
}

/// The brute-force FGSM grid on the first `brute` images against the certified one
/// (result `f`, `t_cert` seconds for all images): 0, or 3 when the results differ.
template <class R>
int fgsm_brute_force(const sleepnet::DenseNetwork<float>& net, const Inputs& in, std::size_t brute, const R& f,
                     double t_cert, double forward)
{
    const sleepnet::matrix<float> xb = xt::view(in.x, xt::range(0, brute), xt::all());
    const sleepnet::label_vector yb = xt::view(in.y, xt::range(0, brute));
    sleepnet::FgsmOptions bf;
    bf.grid.certify.enabled = false;
    const auto [fb, t_brute] = bench::timed([&] { return sleepnet::fgsm(net, xb, yb, bf); });
    report("fgsm (brute)", fb, brute, t_brute, forward, true);
    const std::size_t differ = differing_samples(f, fb, brute);
    const double per_cert = t_cert / static_cast<double>(in.count), per_brute = t_brute / static_cast<double>(brute);
    std::printf("    brute-force grid on the first %zu images: %.2f ms/image vs certified %.3f ms/image, "
                "ratio %.1fx (brute-force estimate for all %zu: %.1f s); %s\n",
                brute, per_brute * 1e3, per_cert * 1e3, per_brute / per_cert, in.count,
                per_brute * static_cast<double>(in.count),
                differ == 0 ? "results identical (epsilon, success, iterations, prediction)" : "RESULTS DIFFER");
    if (differ == 0) return 0;
    std::fprintf(stderr, "bench/attacks: certified and brute-force grid differ on %zu of %zu images\n", differ, brute);
    return 3;
}

/// The certified FGSM grid on all images, then the brute-force one: 0, or 3 when they differ.
int fgsm_grid(const sleepnet::DenseNetwork<float>& net, const Inputs& in, std::size_t brute, double forward)
{
    sleepnet::FgsmOptions certified;
    const auto [f, t_cert] = bench::timed([&] { return sleepnet::fgsm(net, in.x, in.y, certified); });
    const sleepnet::FgsmStats& stats = f.stats;
    report("fgsm (grid)", f, in.count, t_cert, forward, true);
    const auto per_image = [&](std::size_t v) { return static_cast<double>(v) / static_cast<double>(in.count); };
    std::printf("    certified grid: %.2f segment bounds/image (%.2f certified), %.2f network evaluations/image\n",
                per_image(stats.bounds), per_image(stats.certified), per_image(stats.evaluations));
    if (in.count == 10000) bench::print_target("all 10,000 MNIST test images in <= 10 s on 2 cores", t_cert, 10.0);
    brute = std::min(brute, in.count);
    return brute > 0 ? fgsm_brute_force(net, in, brute, f, t_cert, forward) : 0;
}

/// FGSM bisection and DeepFool on all images, JSMA and Boundary on the small set.
void other_attacks(const sleepnet::DenseNetwork<float>& net, const Inputs& in, double forward)
{
    sleepnet::FgsmOptions bis;
    bis.search = sleepnet::FgsmSearch::bisection;
    const auto [fb, t_bis] = bench::timed([&] { return sleepnet::fgsm(net, in.x, in.y, bis); });
    report("fgsm (bisection)", fb, in.count, t_bis, forward, true);
    const auto [d, t_df] = bench::timed([&] { return sleepnet::deepfool(net, in.x, in.y); });
    report("deepfool", d, in.count, t_df, forward, false);
    if (in.count == 10000) bench::print_target("all 10,000 in <= 60 s on 2 cores", t_df, 60.0);
    const auto [j, t_jsma] = bench::timed([&] { return sleepnet::jsma(net, in.xs, in.ys); });
    report("jsma", j, in.small, t_jsma, forward, false);
    sleepnet::default_engine eng(3);
    const auto [b, t_bd] =
        bench::timed([&] { return sleepnet::boundary(net, in.xs, in.ys, sleepnet::BoundaryOptions{}, eng); });
    report("boundary", b, in.small, t_bd, forward, false);
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
    const auto [r, t] = bench::timed([&] { return sleepnet::pgd(net, x, y, eps, o, eng); });
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

/// APGD at --pgd-eps, then at eps 0 (the worst case); returns the worst case's time.
ApgdTime apgd_section(const sleepnet::DenseNetwork<float>& net, const Inputs& in, const Args& a, double gradient)
{
    const double t_apgd = run_apgd("apgd-linf", net, in.x, in.y, a.pgd_eps, a.pgd_steps, gradient).seconds;
    const bool target = in.count == 10000 && a.pgd_steps == 50;
    if (target) bench::print_target("APGD 2 losses x 50 steps on 10,000 MNIST images <= 30 s on 2 cores", t_apgd, 30.0);
    const ApgdTime worst = run_apgd("apgd-linf eps=0", net, in.x, in.y, 0.0, a.pgd_steps, gradient);
    std::printf("    worst case (no input broken, every pass made): %.2f s, the upper bound for any eps\n",
                worst.seconds);
    if (target)
        std::printf("    target at the worst case: %s, %.2f s\n", bench::met(worst.seconds <= 30.0), worst.seconds);
    return worst;
}

/// pgd_minimal (APGD L-inf, CE then margin, 100 steps, to 1e-3) on the first n images with
/// the bisection (the baseline) and with reproduce's warm search (split 0.15, warm start):
/// time and passes of each, their ratio, and how the per-image budgets compare.
void minimal_search_section(const sleepnet::DenseNetwork<float>& net, const Inputs& in, std::size_t n)
{
    n = std::min(n, in.count);
    if (n == 0) return;
    const sleepnet::matrix<float> x = xt::view(in.x, xt::range(0, n), xt::all());
    const sleepnet::label_vector y = xt::view(in.y, xt::range(0, n));
    sleepnet::MinimalEpsilonSearch bisection, warm;
    warm.split = 0.15;
    warm.warm_start = true;
    const auto search = [&](const sleepnet::MinimalEpsilonSearch& m) {
        sleepnet::default_engine eng(5);
        return bench::timed([&] { return sleepnet::pgd_minimal(net, x, y, sleepnet::PgdOptions{}, m, eng); });
    };
    const auto [rb, tb] = search(bisection);
    const auto [rw, tw] = search(warm);
    std::size_t pb = 0, pw = 0, lower = 0, higher = 0;
    for (std::size_t i = 0; i < n; ++i) {
        pb += rb.samples[i].iterations;
        pw += rw.samples[i].iterations;
        const double d = rw.samples[i].epsilon - rb.samples[i].epsilon;  // inf - inf: NaN, counted as neither
        lower += d < -1e-3 ? 1 : 0;
        higher += d > 1e-3 ? 1 : 0;
    }
    const auto per = [&](std::size_t v) { return static_cast<double>(v) / static_cast<double>(n); };
    std::printf("  apgd minimal eps on %zu images: bisection %.2f s, %.0f passes/image, median %.4f; warm search "
                "(split 0.15) %.2f s, %.0f passes/image, median %.4f\n",
                n, tb, per(pb), rb.median_epsilon(), tw, per(pw), rw.median_epsilon());
    std::printf("    ratio bisection / warm: %.2fx time, %.2fx passes; per-image budget of the warm search lower by "
                "> 1e-3 on %zu images, higher on %zu\n",
                tb / tw, static_cast<double>(pb) / static_cast<double>(pw), lower, higher);
}

/// The FGSM accuracy curve on the authors' grid (0 : 0.005 : 0.4) on the first n images:
/// brute force (the baseline) against the certified scan; 3 if the curves differ.
/// `forward`: seconds of one forward pass per image.
int curve_section(const sleepnet::DenseNetwork<float>& net, const Inputs& in, std::size_t n, double forward)
{
    n = std::min(n, in.count);
    if (n == 0) return 0;
    const sleepnet::matrix<float> x = xt::view(in.x, xt::range(0, n), xt::all());
    const sleepnet::label_vector y = xt::view(in.y, xt::range(0, n));
    std::vector<double> eps;
    for (int k = 0; k <= 80; ++k) eps.push_back(0.005 * k);
    sleepnet::FgsmCurveOptions brute;
    brute.certify.enabled = false;
    const auto [cb, tb] = bench::timed([&] { return sleepnet::fgsm_curve(net, x, y, eps, brute); });
    const auto [cf, tf] = bench::timed([&] { return sleepnet::fgsm_curve(net, x, y, eps); });
    const auto per = [&](std::size_t v) { return static_cast<double>(v) / static_cast<double>(n); };
    const double fwd = forward * static_cast<double>(n);  // one forward pass over the n images
    std::printf("  fgsm curve, %zu points on %zu images: brute force %.2f s (%.1f forward passes), certified %.2f s "
                "(%.1f forward passes; %.2f evaluations and %.2f segment bounds per image)\n",
                eps.size(), n, tb, tb / fwd, tf, tf / fwd, per(cf.stats.evaluations), per(cf.stats.bounds));
    const bool equal = cf.accuracy == cb.accuracy;
    std::printf("    ratio brute / certified: %.2fx; curves equal: %s\n", tb / tf, equal ? "yes" : "NO");
    return equal ? 0 : 3;
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
                bench::met(per_pass_torch / per_pass_ours >= 3.0));
}

int run(const Args& a)
{
    const auto mnist = sleepnet::load_mnist<float>(a.data);
    openblas_set_num_threads(static_cast<int>(a.threads));
    sleepnet::DenseNetwork<float> net = bench::control_network(a.model, mnist.train);
    net.set_inference_threads(a.threads);
    const Inputs in = first_images(mnist.test, a.count, a.small);
    const Baselines base = measure_baselines(net, in, a.threads);
    if (!a.skip_others) {
        if (const int status = fgsm_grid(net, in, a.brute, base.forward); status != 0) return status;
        other_attacks(net, in, base.forward);
    }
    const ApgdTime worst = apgd_section(net, in, a, base.gradient);
    minimal_search_section(net, in, a.minimal);
    if (const int status = curve_section(net, in, a.curve, base.forward); status != 0) return status;
    torch_comparison(a.model, a.data, in.count, a.pgd_steps, a.threads, worst);
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    CLI::App app{"bench/attacks: attack throughput on the MNIST network (784-1200-1200-10), in forward passes per "
                 "image against baselines measured in the same run"};
    Args args;
    add_options(app, args);
    CLI11_PARSE(app, argc, argv);
    return bench::guarded("bench/attacks", [&] { return run(args); });
}
