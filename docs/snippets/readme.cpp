// README.md: the whole program of "Use it as a library", compiled only (it reads the MNIST
// files and trains the authors' 784-1200-1200-10 network).
// clang-format off
#include "snippets.hpp"

// In a namespace of its own, so its main is doc_readme::main (never called); its #include
// lines repeat headers already included, which does nothing. A function named main
// outside the global namespace does not get the implicit `return 0`, hence the pragma.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wreturn-type"
#endif
namespace doc_readme {
// snippet-begin README.md
#include <sleepnet/sleepnet.hpp>
#include <sleepnet/attacks/fgsm.hpp>

int main() {
    auto data = sleepnet::load_mnist<float>("data/mnist");
    sleepnet::NetworkOptions opt;
    opt.dropout = 0.2;                                           // authors: ReLU output, no bias, dropout 0.2
    sleepnet::DenseNetwork<float> net({784, 1200, 1200, 10}, opt);
    sleepnet::default_engine engine(1);                          // engines are always passed in
    net.initialize(sleepnet::Init::uniform(0.01), engine);
    sleepnet::train(net, data.train, sleepnet::MseLoss{}, sleepnet::SgdOptions{}, engine);
    sleepnet::save_model(net, "out/control");                    // model.json + W1.npy, W2.npy, W3.npy

    auto slept = net;
    auto report = sleepnet::sleep(slept, data.train.x, sleepnet::sleep_preset("mnist-fgsm"), engine);

    auto before = sleepnet::fgsm(net, data.test.x, data.test.y);
    auto after = sleepnet::fgsm(slept, data.test.x, data.test.y);
    // before.median_epsilon(), after.median_epsilon(), sleepnet::accuracy(slept, data.test) ...
}
// snippet-end
}  // namespace doc_readme
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
