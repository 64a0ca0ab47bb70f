// docs/sleep.md
// clang-format off
#include "snippets.hpp"

namespace doc_sleep {

using Net = sleepnet::DenseNetwork<float>;
using Data = sleepnet::DataSplits<float>;
using sleepnet::SleepParams;
using sleepnet::default_engine;

// MNIST files and a model directory: compiled only
void overview()
{
// snippet-begin docs/sleep.md
#include <sleepnet/sleepnet.hpp>

auto data = sleepnet::load_mnist<float>("data/mnist");
auto net = sleepnet::load_model<float>("out/control");        // a trained control network
sleepnet::SleepParams p = sleepnet::sleep_preset("mnist-fgsm");
sleepnet::default_engine engine(1);                            // draws the input spikes
sleepnet::SleepReport r = sleepnet::sleep(net, data.train.x, p, engine);
// net's weights are now the slept weights; save_model(net, "out/slept") to keep them
// snippet-end
}

void normalization(const Net& net, const Data& data)
{
// snippet-begin docs/sleep.md
sleepnet::NormalizationOptions no;
no.chain = sleepnet::NormalizationChain::textbook;       // or authors, percentile (+ no.percentile)
sleepnet::Normalization n = sleepnet::compute_normalization(net, data.train.x, no);
// n.max_activation, n.max_weight, n.scale (s_l), n.factors
std::vector<double> f = sleepnet::chain_factors(n.scale, sleepnet::NormalizationChain::authors);
sleepnet::DenseNetwork<float> scaled = sleepnet::normalized_copy(net, n.factors);   // W_l * factor_l
// snippet-end
    CHECK(scaled.num_layers() == net.num_layers());
}

void precomputed_alpha(SleepParams& p, const Net& net, const Data& data)
{
// snippet-begin docs/sleep.md
p.alpha = sleepnet::sleep_alpha(net, data.train.x, p);  // one normalization pass
// every later sleep(net, data.train.x, p, engine) skips normalization
// snippet-end
}

// writes raster.npy into the working directory
void raster_replay(const SleepParams& p, const Data& data, default_engine& engine, Net& net)
{
// snippet-begin docs/sleep.md
const sleepnet::PoissonOptions po{p.rate, p.dt, p.rate_factor};
sleepnet::PoissonSequence<float> seq(data.train.x, po);
xt::xtensor<std::uint8_t, 2> raster = sleepnet::record_raster(seq, p.steps, engine);
sleepnet::npy::save("raster.npy", raster);

sleepnet::RasterReplay replay(sleepnet::npy::load<std::uint8_t, 2>("raster.npy"));
sleepnet::SleepReport r = sleepnet::sleep_with_source(net, replay, data.train.x, p, engine);
// snippet-end
}

// the documented member functions of a spike source and of an STDP rule, and the
// signature of sleep_weights, as member declarations, compared with PoissonSequence,
// PaperStdp and sleepnet::sleep_weights
namespace signatures {
using namespace sleepnet;

struct SourceMembers {
// snippet-begin docs/sleep.md
std::size_t size() const;                       // number of inputs
template <class Engine>
void spikes(std::size_t t, std::vector<std::uint32_t>& active, Engine& engine);
// snippet-end
};
static_assert(doc_snippets::same_signature<decltype(&SourceMembers::size), decltype(&PoissonSequence<float>::size)>);
static_assert(doc_snippets::same_signature<decltype(&SourceMembers::spikes<default_engine>),
                                           decltype(&PoissonSequence<float>::spikes<default_engine>)>);

struct RuleMembers {
// snippet-begin docs/sleep.md
double potentiate(double w) const;
double depress(double w) const;
// snippet-end
};
static_assert(doc_snippets::same_signature<decltype(&RuleMembers::potentiate), decltype(&PaperStdp::potentiate)>);
static_assert(doc_snippets::same_signature<decltype(&RuleMembers::depress), decltype(&PaperStdp::depress)>);

struct SleepWeightsFunction {
// snippet-begin docs/sleep.md
template <class T, class Source, class Rule, class Engine, class... Callbacks>
SleepReport sleep_weights(const std::vector<WeightView<T>>& layers, const std::vector<IfLayerParams>& params,
                          double decay, std::size_t steps, Source& source, const Rule& rule, Engine& engine,
                          Callbacks&&... callbacks);
// snippet-end
};
static_assert(doc_snippets::same_signature<
              decltype(&SleepWeightsFunction::sleep_weights<float, PoissonSequence<float>, PaperStdp, default_engine>),
              decltype(&sleepnet::sleep_weights<float, PoissonSequence<float>, PaperStdp, default_engine>)>);
}  // namespace signatures

// A source with a member template cannot be a local class: the block's struct is at
// namespace scope, its two statements in a function (needs a 784-pixel network).
// snippet-begin docs/sleep.md
struct OneInputAtATime {   // input t mod n spikes at step t
    std::size_t n;
    std::size_t size() const { return n; }
    template <class Engine>
    void spikes(std::size_t t, std::vector<std::uint32_t>& active, Engine&)
    {
        active.assign(1, static_cast<std::uint32_t>(t % n));
    }
};

// snippet-pause
void custom_source(Net& net, const Data& data, const SleepParams& p, default_engine& engine)
{
// snippet-resume
OneInputAtATime src{784};
sleepnet::sleep_with_source(net, src, data.train.x, p, engine);
// snippet-end
}

void custom_rule(Net& net, const Data& data, const SleepParams& p, default_engine& engine)
{
// snippet-begin docs/sleep.md
struct ClippedStdp {        // the paper's rule with weights capped at wmax
    double inc = 0.001, dec = 0.0001, wmax = 0.05;
    double potentiate(double w) const { return std::min(wmax, w + inc); }
    double depress(double w) const { return w - dec; }
};

const std::vector<double> alpha = sleepnet::sleep_alpha(net, data.train.x, p);
std::vector<sleepnet::IfLayerParams> params;
for (std::size_t l = 0; l < alpha.size(); ++l) params.push_back({alpha[l], p.thresholds[l]});
sleepnet::PoissonSequence<float> src(data.train.x, {p.rate, p.dt, p.rate_factor});
sleepnet::SleepReport r = sleepnet::sleep_weights(sleepnet::weight_views(net, alpha.size()), params, p.decay,
                                                  p.steps, src, ClippedStdp{}, engine);
// snippet-end
}

// `params`: SleepParams for a network with two layers (refit keeps layer 1 frozen)
void refit_after_sleep(Net& net, const Data& data, const SleepParams& params, default_engine& engine)
{
// snippet-begin docs/sleep.md
sleepnet::sleep(net, data.train.x, params, engine);
sleepnet::RefitOptions r;              // r.sgd: frozen_layers 1, 2 epochs, lr 0.05, momentum 0.5, batch 100; MSE
sleepnet::default_engine refit_engine(1);
sleepnet::refit(net, data.train.x, data.train.y, r, refit_engine);   // layers 2.. trained, layer 1 untouched
// snippet-end
}

void stop_early(Net& net, const Data& data, const SleepParams& p, default_engine& engine)
{
// snippet-begin docs/sleep.md
struct StopAfterInputSpikes {
    std::uint64_t limit;
    std::uint64_t seen = 0;
    bool on_step(const sleepnet::SleepProgress& s)
    {
        seen += s.input->size();
        return seen >= limit;
    }
};

sleepnet::sleep(net, data.train.x, p, engine, StopAfterInputSpikes{50000});
// snippet-end
}

// the variables of examples/embed_sleep.cpp that the block uses
struct ForeignTrainer {
    std::size_t hidden;
    std::vector<float> w1, w2;  // hidden x d, 4 x hidden
};

void embed_sleep(ForeignTrainer& t, std::size_t d, const std::vector<double>& factors, double alpha_scale,
                 const std::vector<float>& images, std::size_t n, default_engine& engine)
{
// snippet-begin docs/sleep.md
std::vector<sleepnet::WeightView<float>> layers{{t.w1.data(), t.hidden, d}, {t.w2.data(), 4, t.hidden}};
std::vector<sleepnet::IfLayerParams> params{{factors[0] * alpha_scale, 1.0}, {factors[1] * alpha_scale, 0.7}};
sleepnet::PoissonSequence<float> source(images.data(), n, d, sleepnet::PoissonOptions{16.0, 0.001, 2.0});
const auto report = sleepnet::sleep_weights(layers, params, 0.999, 2000, source,
                                            sleepnet::PaperStdp{0.0035, 0.0002}, engine);
// snippet-end
}

void spiking_inference(const Net& net, const Data& data, default_engine& engine)
{
// snippet-begin docs/sleep.md
const auto factors = sleepnet::normalization_factors(net, data.train.x, {sleepnet::NormalizationChain::textbook});
sleepnet::SpikingInferenceOptions so;
sleepnet::label_vector spk = sleepnet::spiking_predict(net, data.test.x, factors, so, engine);
// snippet-end
    CHECK(spk.size() == data.test.x.shape(0));
}

}  // namespace doc_sleep

TEST_CASE("docs/sleep.md: normalization, alpha, raster replay, custom rule, callbacks, spiking inference (Patches)")
{
    const auto data = doc_snippets::patches_data();
    auto net = doc_snippets::patches_network(data);
    sleepnet::default_engine engine(1);
    sleepnet::SleepParams p = sleepnet::sleep_preset("patches");

    doc_sleep::normalization(net, data);
    doc_sleep::precomputed_alpha(p, net, data);
    doc_sleep::raster_replay(p, data, engine, net);
    doc_sleep::custom_rule(net, data, p, engine);
    doc_sleep::stop_early(net, data, p, engine);
    doc_sleep::spiking_inference(net, data, engine);
}

TEST_CASE("docs/sleep.md: a custom spike source (Patches, 28x28 images)")
{
    const auto data = doc_snippets::patches_data(1, 25, 28);
    auto net = doc_snippets::patches_network(data, {784, 4});
    sleepnet::default_engine engine(1);
    doc_sleep::custom_source(net, data, sleepnet::sleep_preset("patches"), engine);
}

TEST_CASE("docs/sleep.md: refit after sleep (Patches, 100-16-4)")
{
    const auto data = doc_snippets::patches_data();
    auto net = doc_snippets::patches_network(data, {100, 16, 4});
    sleepnet::SleepParams params = sleepnet::sleep_preset("patches");
    params.thresholds = {1.045, 0.715};
    sleepnet::default_engine engine(1);
    doc_sleep::refit_after_sleep(net, data, params, engine);
}

TEST_CASE("docs/sleep.md: sleep_weights on a foreign trainer's buffers (Patches, 100-16-4)")
{
    const auto data = doc_snippets::patches_data(1, 1);
    const auto net = doc_snippets::patches_network(data, {100, 16, 4});
    doc_sleep::ForeignTrainer t{16, {net.weights(0).begin(), net.weights(0).end()},
                                {net.weights(1).begin(), net.weights(1).end()}};
    const std::vector<float> images(data.train.x.begin(), data.train.x.end());
    sleepnet::default_engine engine(1);
    doc_sleep::embed_sleep(t, 100, {1.0, 1.0}, 2.5, images, data.train.x.shape(0), engine);
}
