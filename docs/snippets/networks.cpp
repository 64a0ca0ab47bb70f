// docs/networks.md
// clang-format off
#include "snippets.hpp"

namespace doc_networks {

using Net = sleepnet::DenseNetwork<float>;
using sleepnet::label_vector;
using sleepnet::matrix;

void construction()
{
// snippet-begin docs/networks.md
#include <sleepnet/sleepnet.hpp>

sleepnet::NetworkOptions opt;        // authors: ReLU hidden and output, no bias
opt.dropout = 0.2;                   // authors: 0.2 on hidden layers, x 0.8 at test time
sleepnet::DenseNetwork<float> net({784, 1200, 1200, 10}, opt);
sleepnet::default_engine engine(1);  // engines are always passed in
net.initialize(sleepnet::Init::uniform(0.01), engine);
// snippet-end
    CHECK(net.num_layers() == 3);
}

void logits_style(sleepnet::default_engine& engine)
{
// snippet-begin docs/networks.md
sleepnet::NetworkOptions o;
o.output = sleepnet::Activation::linear;
o.bias = true;
o.dropout = 0.5;
o.dropout_mode = sleepnet::DropoutMode::inverted;
sleepnet::DenseNetwork<double> other({784, 256, 10}, o);
other.initialize(sleepnet::Init::he(), engine);
// snippet-end
}

// the documented signatures, as member declarations (the overloads of `train` are only
// compiled; the others are compared with the library's)
namespace signatures {
using namespace sleepnet;

template <class T>
struct DenseNetworkMembers {
// snippet-begin docs/networks.md
template <class Engine = default_engine>
void forward(const matrix<T>& x, ForwardState<T>& st, Mode mode = Mode::test, Engine* engine = nullptr) const;
void backward(ForwardState<T>& st, const matrix<T>& dz_out, const GradientSink<T>* sink, matrix<T>* dx) const;
// snippet-end
};
template struct DenseNetworkMembers<float>;
static_assert(doc_snippets::same_signature<decltype(&DenseNetworkMembers<float>::forward<default_engine>),
                                           decltype(&DenseNetwork<float>::forward<default_engine>)>);
static_assert(doc_snippets::same_signature<decltype(&DenseNetworkMembers<float>::backward),
                                           decltype(&DenseNetwork<float>::backward)>);

struct LossMembers {
// snippet-begin docs/networks.md
template <class T>
T operator()(const matrix<T>& z, const matrix<T>& a, const matrix<T>& target, Activation output,
             matrix<T>* dz = nullptr) const;
// snippet-end
};
static_assert(doc_snippets::same_signature<decltype(&LossMembers::operator()<float>),
                                           decltype(&MseLoss::operator()<float>)>);

template <class T, class Loss, class Engine, class... Callbacks>
struct TrainFunctions {
// snippet-begin docs/networks.md
TrainReport train(DenseNetwork<T>& net, const Dataset<T>& data, const Loss& loss,
                  const SgdOptions& options, Engine& engine, Callbacks&&... callbacks);
TrainReport train(DenseNetwork<T>& net, const matrix<T>& x, const matrix<T>& targets, const Loss& loss,
                  const SgdOptions& options, Engine& engine, Callbacks&&... callbacks);
// snippet-end
};
template struct TrainFunctions<float, MseLoss, default_engine>;
}  // namespace signatures

void gradient_sink(const Net& net, sleepnet::ForwardState<float>& st, const matrix<float>& dz)
{
// snippet-begin docs/networks.md
std::vector<sleepnet::matrix<float>> grads(net.num_layers());
sleepnet::GradientSink<float> sink;  // alpha 1, beta 0
sink.weights = &grads;
net.backward(st, dz, &sink, nullptr);
// snippet-end
    CHECK(grads.size() == net.num_layers());
}

void training_step(Net& net, sleepnet::default_engine& engine, const matrix<float>& xb, const matrix<float>& yb)
{
// snippet-begin docs/networks.md
sleepnet::Sgd<float> sgd(net, sleepnet::SgdOptions{});   // lr 0.1, momentum 0.5
sleepnet::ForwardState<float> st;
sleepnet::matrix<float> dz;
const sleepnet::MseLoss loss;                            // the authors' delta

// xb: a batch (B x 784), yb: its one-hot targets (B x 10)
net.forward(xb, st, sleepnet::Mode::train, &engine);
const float value = loss(st.logits(), st.output(), yb, net.options().output, &dz);
sgd.step(net, st, dz);
// snippet-end
    CHECK(value >= 0.0f);
}

void inference(const Net& net, const sleepnet::DataSplits<float>& data, const matrix<float>& xs, const label_vector& ys)
{
// snippet-begin docs/networks.md
sleepnet::matrix<float> z = net.logits(data.test.x);
sleepnet::label_vector pred = net.predict(data.test.x);
std::vector<sleepnet::matrix<float>> acts = net.activations(data.test.x);

// the gradient of the authors' loss with respect to the inputs (the FGSM direction)
sleepnet::ForwardState<float> st;
net.forward(xs, st);                               // test mode
sleepnet::matrix<float> dz;
sleepnet::MseLoss{}(st.logits(), st.output(), sleepnet::one_hot<float>(ys, 10), net.options().output, &dz);
sleepnet::matrix<float> gx = net.input_gradient(xs, dz);   // N x 784
xt::xtensor<float, 3> jac = net.jacobian(xs);               // N x 10 x 784
// snippet-end
    CHECK(jac.shape(0) == xs.shape(0));
}

void callbacks(Net& net, const sleepnet::DataSplits<float>& data, sleepnet::default_engine& engine)
{
// snippet-begin docs/networks.md
struct StopBelow {
    double target;
    bool on_end_epoch(const sleepnet::TrainInfo& info) { return info.epoch_loss < target; }
};
struct PrintEpoch {
    void on_end_epoch(const sleepnet::TrainInfo& info)
    {
        std::printf("epoch %zu/%zu: mean loss %.4f\n", info.epoch + 1, info.epochs, info.epoch_loss);
    }
};

sleepnet::SgdOptions sgd;
sgd.epochs = 10;
sleepnet::TrainReport report =
    sleepnet::train(net, data.train, sleepnet::MseLoss{}, sgd, engine, StopBelow{0.05}, PrintEpoch{});
double acc = sleepnet::accuracy(net, data.test);   // or accuracy(net, x, y)
// snippet-end
    CHECK(acc >= 0.0);
}

}  // namespace doc_networks

TEST_CASE("docs/networks.md: construction")
{
    doc_networks::construction();
    sleepnet::default_engine engine(1);
    doc_networks::logits_style(engine);
}

TEST_CASE("docs/networks.md: gradients, a training step, inference, callbacks (Patches)")
{
    // ten classes: the snippets build one-hot targets of 10 classes
    const auto data = doc_snippets::patches10_data();
    auto net = doc_snippets::patches_network(data, {144, 16, 10});
    sleepnet::default_engine engine(1);

    sleepnet::ForwardState<float> st;
    net.forward(data.test.x, st);
    sleepnet::matrix<float> dz;
    sleepnet::MseLoss{}(st.logits(), st.output(), sleepnet::one_hot<float>(data.test.y, 10), net.options().output, &dz);
    doc_networks::gradient_sink(net, st, dz);

    doc_networks::training_step(net, engine, data.train.x, sleepnet::one_hot<float>(data.train.y, 10));
    doc_networks::inference(net, data, data.test.x, data.test.y);
    doc_networks::callbacks(net, data, engine);
}
