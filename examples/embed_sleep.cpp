// embed_sleep: sleep as a post-training step of someone else's trainer.
//
// The "foreign trainer" below keeps its weights in plain std::vector<float> buffers
// (row-major, out x in), trains them with its own loop, and hands them to
// sleepnet::sleep_weights, which changes them in place: no DenseNetwork, no copies the
// caller has to manage. The normalization factors come from the trainer's own forward
// pass through sleepnet::chain_factors.
//
//   embed_sleep [--seed S]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sleepnet/data/patches.hpp>
#include <sleepnet/snn/sleep.hpp>

namespace foreign {

// A minimal two-layer ReLU trainer with its own buffers.
struct Trainer {
    std::size_t in, hidden, out;
    std::vector<float> w1, w2;  // hidden x in, out x hidden

    std::vector<float> forward(const float* x, std::vector<float>& h) const
    {
        h.assign(hidden, 0.0f);
        for (std::size_t i = 0; i < hidden; ++i) {
            float s = 0;
            for (std::size_t j = 0; j < in; ++j) s += w1[i * in + j] * x[j];
            h[i] = std::max(0.0f, s);
        }
        std::vector<float> y(out, 0.0f);
        for (std::size_t k = 0; k < out; ++k) {
            float s = 0;
            for (std::size_t i = 0; i < hidden; ++i) s += w2[k * hidden + i] * h[i];
            y[k] = std::max(0.0f, s);
        }
        return y;
    }

    void sgd_step(const float* x, std::size_t label, float lr)
    {
        std::vector<float> h;
        const auto y = forward(x, h);
        std::vector<float> dy(out), dh(hidden, 0.0f);
        for (std::size_t k = 0; k < out; ++k) dy[k] = y[k] - (k == label ? 1.0f : 0.0f);
        for (std::size_t k = 0; k < out; ++k)
            for (std::size_t i = 0; i < hidden; ++i) {
                dh[i] += dy[k] * w2[k * hidden + i];
                w2[k * hidden + i] -= lr * dy[k] * h[i];
            }
        for (std::size_t i = 0; i < hidden; ++i) {
            if (h[i] <= 0) continue;
            for (std::size_t j = 0; j < in; ++j) w1[i * in + j] -= lr * dh[i] * x[j];
        }
    }

    std::size_t predict(const float* x) const
    {
        std::vector<float> h;
        const auto y = forward(x, h);
        return static_cast<std::size_t>(std::max_element(y.begin(), y.end()) - y.begin());
    }
};

}  // namespace foreign

int main(int argc, char** argv)
{
    std::uint64_t seed = 1;
    if (argc == 3 && !std::strcmp(argv[1], "--seed")) seed = std::strtoull(argv[2], nullptr, 10);
    sleepnet::default_engine engine(seed);

    // data: the paper's Patches (4 binary 10x10 images) in the trainer's own buffer
    const auto patches = sleepnet::make_patches<float>(engine);
    const std::size_t n = patches.train.size(), d = patches.train.dim();
    std::vector<float> images(patches.train.x.begin(), patches.train.x.end());
    std::vector<std::size_t> labels(patches.train.y.begin(), patches.train.y.end());

    foreign::Trainer t{d, 20, 4, {}, {}};
    t.w1.resize(t.hidden * d);
    t.w2.resize(4 * t.hidden);
    for (auto& w : t.w1) w = sleepnet::rng::uniform<float>(engine, -0.1f, 0.1f);
    for (auto& w : t.w2) w = sleepnet::rng::uniform<float>(engine, -0.1f, 0.1f);
    for (int epoch = 0; epoch < 200; ++epoch)
        for (std::size_t i = 0; i < n; ++i) t.sgd_step(&images[i * d], labels[i], 0.05f);
    std::size_t correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += t.predict(&images[i * d]) == labels[i] ? 1 : 0;
    std::printf("foreign trainer: %zu / %zu training images correct\n", correct, n);

    // normalization from the trainer's own forward pass: s_l = max(max weight, max activation)
    double max_h = 0, max_y = 0;
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<float> h;
        const auto y = t.forward(&images[i * d], h);
        max_h = std::max(max_h, static_cast<double>(*std::max_element(h.begin(), h.end())));
        max_y = std::max(max_y, static_cast<double>(*std::max_element(y.begin(), y.end())));
    }
    const double s1 = std::max(max_h, static_cast<double>(*std::max_element(t.w1.begin(), t.w1.end())));
    const double s2 = std::max(max_y, static_cast<double>(*std::max_element(t.w2.begin(), t.w2.end())));
    const auto factors = sleepnet::chain_factors({s1, s2}, sleepnet::NormalizationChain::authors);

    // sleep in place on the trainer's buffers
    const std::vector<float> w1_before = t.w1;
    std::vector<sleepnet::WeightView<float>> layers{{t.w1.data(), t.hidden, d}, {t.w2.data(), 4, t.hidden}};
    const double alpha_scale = 2.5;
    std::vector<sleepnet::IfLayerParams> params{{factors[0] * alpha_scale, 1.0}, {factors[1] * alpha_scale, 0.7}};
    sleepnet::PoissonSequence<float> source(images.data(), n, d, sleepnet::PoissonOptions{16.0, 0.001, 2.0});
    const auto report =
        sleepnet::sleep_weights(layers, params, 0.999, 2000, source, sleepnet::PaperStdp{0.0035, 0.0002}, engine);
    std::size_t changed = 0;
    for (std::size_t k = 0; k < t.w1.size(); ++k) changed += t.w1[k] != w1_before[k] ? 1 : 0;
    std::printf("sleep: %zu steps, spikes per layer %llu %llu, %zu of %zu first-layer weights changed in the "
                "trainer's own buffer (report says %zu)\n",
                report.steps, static_cast<unsigned long long>(report.spikes[0]),
                static_cast<unsigned long long>(report.spikes[1]), changed, t.w1.size(), report.weights_changed[0]);
    correct = 0;
    for (std::size_t i = 0; i < n; ++i) correct += t.predict(&images[i * d]) == labels[i] ? 1 : 0;
    std::printf("foreign trainer after sleep: %zu / %zu training images correct\n", correct, n);
    return changed == report.weights_changed[0] ? 0 : 1;
}
