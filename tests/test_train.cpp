// train(): reproducibility, callbacks, partial batches, learning a separable problem,
// initialisation ranges and argument checks.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>

#include <sleepnet/nn/train.hpp>

#include "support.hpp"

using namespace sleepnet;

namespace {

using test_support::blobs;

struct Recorder {
    std::size_t begins = 0, batches = 0, ends = 0;
    std::vector<double> epoch_losses;
    void on_begin_epoch(const TrainInfo&) { ++begins; }
    void on_batch(const TrainInfo& info)
    {
        ++batches;
        CHECK(info.batch < info.batches_per_epoch);
    }
    bool on_end_epoch(const TrainInfo& info)
    {
        ++ends;
        epoch_losses.push_back(info.epoch_loss);
        return false;
    }
};

}  // namespace

TEST_CASE("training learns a separable problem, the loss goes down, callbacks see every batch")
{
    const auto data = blobs(303, 1);  // 303 = 3 full batches of 100 + one of 3
    NetworkOptions opt;
    opt.dropout = 0.1;
    DenseNetwork<double> net({8, 16, 3}, opt);
    default_engine eng(2);
    net.initialize(Init::he(), eng);
    SgdOptions sgd;
    sgd.epochs = 30;
    sgd.learning_rate = 0.1;
    Recorder rec;
    const auto report = train(net, data, MseLoss{}, sgd, eng, rec);
    CHECK(report.epochs_completed == 30);
    CHECK(!report.stopped_early);
    CHECK(report.batches == 30 * 4);
    CHECK(rec.begins == 30);
    CHECK(rec.ends == 30);
    CHECK(rec.batches == 120);
    CHECK(rec.epoch_losses.back() < 0.5 * rec.epoch_losses.front());
    CHECK(accuracy(net, data) == 1.0);
    CHECK(accuracy(net, blobs(300, 9)) >= 0.98);
}

TEST_CASE("same seed, same weights, another seed, other weights")
{
    const auto data = blobs(200, 3);
    auto run = [&](std::uint64_t seed) {
        NetworkOptions opt;
        opt.dropout = 0.2;
        DenseNetwork<float> net({8, 10, 3}, opt);
        default_engine eng(seed);
        net.initialize(Init::uniform(0.01), eng);
        Dataset<float> d{xt::cast<float>(data.x), data.y, data.classes, data.name};
        SgdOptions sgd;
        sgd.epochs = 3;
        sgd.batch_size = 32;
        train(net, d, MseLoss{}, sgd, eng);
        return net;
    };
    const auto a = run(5), b = run(5), c = run(6);
    CHECK(a.weights(0) == b.weights(0));
    CHECK(a.weights(1) == b.weights(1));
    CHECK(a.weights(0) != c.weights(0));
}

TEST_CASE("a callback returning true stops training")
{
    const auto data = blobs(100, 4);
    DenseNetwork<double> net({8, 4, 3});
    default_engine eng(1);
    net.initialize(Init::glorot(), eng);
    struct StopAfter {
        std::size_t n;
        std::size_t seen = 0;
        bool on_batch(const TrainInfo&) { return ++seen == n; }
    };
    SgdOptions sgd;
    sgd.epochs = 10;
    sgd.batch_size = 10;
    StopAfter stop{13};
    const auto report = train(net, data, SoftmaxCrossEntropy{}, sgd, eng, stop);
    CHECK(report.stopped_early);
    CHECK(report.batches == 13);
    CHECK(report.epochs_completed == 1);
    struct StopAtEpoch {
        bool on_end_epoch(const TrainInfo& i) { return i.epoch == 2; }
    };
    const auto r2 = train(net, data, MseLoss{}, sgd, eng, StopAtEpoch{});
    CHECK(r2.epochs_completed == 3);
    CHECK(r2.stopped_early);
}

TEST_CASE("initialisation ranges")
{
    default_engine eng(1);
    DenseNetwork<double> net({100, 50, 10});
    net.initialize(Init::uniform(0.01), eng);
    CHECK(xt::amax(xt::abs(net.weights(0)))() <= 0.01);
    CHECK(xt::amax(xt::abs(net.weights(0)))() > 0.009);
    net.initialize(Init::he(), eng);
    CHECK(xt::amax(xt::abs(net.weights(0)))() <= std::sqrt(6.0 / 100));
    CHECK(xt::amax(xt::abs(net.weights(0)))() > 0.9 * std::sqrt(6.0 / 100));
    net.initialize(Init::glorot(), eng);
    CHECK(xt::amax(xt::abs(net.weights(1)))() <= std::sqrt(6.0 / 60));
    CHECK_THROWS_AS(net.initialize(Init::uniform(-1), eng), invalid_argument);
}

TEST_CASE("train: argument checks")
{
    const auto data = blobs(30, 1);
    DenseNetwork<double> net({8, 4, 3});
    default_engine eng(1);
    SgdOptions sgd;
    CHECK_THROWS_WITH_AS(train(net, data.x, matrix<double>::from_shape({30, 4}), MseLoss{}, sgd, eng),
                         doctest::Contains("targets"), invalid_argument);
    DenseNetwork<double> wrong({8, 4, 5});
    CHECK_THROWS_WITH_AS(train(wrong, data, MseLoss{}, sgd, eng), doctest::Contains("3 classes"), invalid_argument);
    sgd.batch_size = 0;
    CHECK_THROWS_AS(train(net, data, MseLoss{}, sgd, eng), invalid_argument);
    sgd = SgdOptions{};
    sgd.learning_rate = 1e37;  // diverges: the loss overflows float
    DenseNetwork<float> linear({8, 3}, NetworkOptions{Activation::relu, Activation::linear});
    linear.initialize(Init::he(), eng);
    Dataset<float> fdata{xt::cast<float>(data.x), data.y, data.classes, data.name};
    CHECK_THROWS_WITH_AS(train(linear, fdata, MseLoss{}, sgd, eng), doctest::Contains("non-finite"), numeric_error);
    CHECK_THROWS_AS(accuracy(net, data.x, label_vector::from_shape({3})), invalid_argument);
}
