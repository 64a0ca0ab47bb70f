// docs/distortions.md
// clang-format off
#include "snippets.hpp"

namespace doc_distortions {

// MNIST files and a model directory: compiled only
void overview()
{
// snippet-begin docs/distortions.md
#include <sleepnet/sleepnet.hpp>

auto data = sleepnet::load_mnist<float>("data/mnist");
auto net = sleepnet::load_model<float>("out/control");
sleepnet::default_engine engine(1);

// one distorted copy
auto noisy = sleepnet::gaussian_noise(data.test.x, 0.3, sleepnet::NoiseLevel::std_dev, engine);
auto blurred = sleepnet::gaussian_blur(data.test.x, 28, 28, 1.5);          // reflect borders

// accuracy curves, as in the paper's plots
std::vector<double> levels{0, .1, .3, .5, .7, .9};
auto noise_acc = sleepnet::noise_accuracy_curve(net, data.test.x, data.test.y, levels,
                                                sleepnet::NoiseLevel::variance, engine);
auto blur_acc = sleepnet::blur_accuracy_curve(net, data.test.x, data.test.y, 28, 28,
                                              {0, .5, 1, 1.5, 2, 2.5});
// snippet-end
}

}  // namespace doc_distortions
