// Spiking inference (the Diehl et al. conversion check): spike-count predictions of the
// converted network approach the ANN's as the simulation gets longer.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sleepnet/nn/train.hpp>
#include <sleepnet/snn/spiking_inference.hpp>

using namespace sleepnet;

namespace {

// 6 classes, 30 inputs in [0, 1]: noisy copies of random prototypes.
Dataset<float> prototypes(std::size_t n, std::uint64_t seed)
{
    default_engine proto_eng(99);
    matrix<float> proto = matrix<float>::from_shape({6, 30});
    for (auto& v : proto) v = rng::uniform01<double>(proto_eng) < 0.4 ? rng::uniform01<float>(proto_eng) : 0.0f;
    default_engine eng(seed);
    Dataset<float> d;
    d.classes = 6;
    d.name = "prototypes";
    d.x = matrix<float>::from_shape({n, 30});
    d.y = label_vector::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 6;
        d.y(i) = c;
        for (std::size_t j = 0; j < 30; ++j) {
            const float v = proto(c, j) + 0.25f * (rng::uniform01<float>(eng) - 0.5f);
            d.x(i, j) = std::min(1.0f, std::max(0.0f, v));
        }
    }
    return d;
}

double agreement(const label_vector& a, const label_vector& b)
{
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a(i) == b(i) ? 1 : 0;
    return static_cast<double>(same) / static_cast<double>(a.size());
}

}  // namespace

TEST_CASE("spike-count predictions converge to the ANN's as T grows")
{
    const auto train_set = prototypes(600, 1);
    const auto test_set = prototypes(120, 2);
    NetworkOptions opt;
    opt.dropout = 0.2;  // test-time scaling is part of the ANN; argmax is invariant to it
    DenseNetwork<float> net({30, 40, 6}, opt);
    default_engine eng(3);
    net.initialize(Init::he(), eng);
    SgdOptions sgd;
    sgd.epochs = 20;
    sgd.batch_size = 20;
    sgd.learning_rate = 0.05;
    train(net, train_set, MseLoss{}, sgd, eng);
    const double ann = accuracy(net, test_set);
    REQUIRE(ann > 0.9);

    const auto alpha = normalization_factors(net, train_set.x, {NormalizationChain::textbook});
    const label_vector ann_pred = net.predict(test_set.x);
    std::vector<double> agree;
    for (std::size_t steps : {5u, 50u, 500u}) {
        SpikingInferenceOptions so;
        so.steps = steps;
        default_engine e(7);
        const auto pred = spiking_predict(net, test_set.x, alpha, so, e);
        agree.push_back(agreement(pred, ann_pred));
    }
    MESSAGE("agreement with the ANN at T = 5, 50, 500: " << agree[0] << ", " << agree[1] << ", " << agree[2]);
    CHECK(agree[2] >= 0.95);
    CHECK(agree[2] >= agree[0]);
    CHECK(agree[1] >= agree[0] - 0.02);

    SpikingInferenceOptions so;
    so.steps = 0;
    CHECK_THROWS_AS(spiking_predict(net, test_set.x, alpha, so, eng), invalid_argument);
    CHECK_THROWS_AS(spiking_predict(net, test_set.x, std::vector<double>{1.0}, SpikingInferenceOptions{}, eng),
                    invalid_argument);
}
