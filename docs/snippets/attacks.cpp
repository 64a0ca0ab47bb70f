// docs/attacks.md
// clang-format off
#include "snippets.hpp"

namespace doc_attacks {

using Net = sleepnet::DenseNetwork<float>;
using sleepnet::label_vector;
using sleepnet::matrix;

// MNIST files and a 784-1200-1200-10 model directory: compiled only
void overview()
{
// snippet-begin docs/attacks.md
#include <sleepnet/sleepnet.hpp>

auto data = sleepnet::load_mnist<float>("data/mnist");
auto net = sleepnet::load_model<float>("out/control");

auto f = sleepnet::fgsm(net, data.test.x, data.test.y);          // minimal epsilon per input
auto d = sleepnet::deepfool(net, data.test.x, data.test.y);      // L2, overshoot 1.05 per step
auto j = sleepnet::jsma(net, data.test.x, data.test.y);          // theta 0.1, 7 changes per pixel
sleepnet::default_engine engine(1);                              // only Boundary draws random numbers
auto b = sleepnet::boundary(net, data.test.x, data.test.y,       // slow: about 85 s per 100 MNIST images
                            sleepnet::BoundaryOptions{}, engine);

double fgsm_score = f.median_epsilon();      // the paper's FGSM score
double deepfool_score = d.median_distance(); // the paper's score for DeepFool, JSMA and Boundary
double rate = d.success_rate();
// snippet-end
}

void fgsm_minimal(const Net& net, const matrix<float>& x, const label_vector& y)
{
// snippet-begin docs/attacks.md
#include <sleepnet/attacks/fgsm.hpp>

sleepnet::FgsmOptions o;                 // defaults: Foolbox grid, the authors' loss
auto r = sleepnet::fgsm(net, x, y, o);
r.median_epsilon();                      // the paper's FGSM score
r.stats.evaluations;                    // the work it took (FgsmStats)
// snippet-end
    CHECK(r.samples.size() == x.shape(0));
}

void deepfool(const Net& net, const matrix<float>& x, const label_vector& y)
{
// snippet-begin docs/attacks.md
#include <sleepnet/attacks/deepfool.hpp>

sleepnet::DeepFoolOptions o;             // defaults: per-step overshoot 0.05, 100 iterations, no clipping
auto r = sleepnet::deepfool(net, x, y, o);
// snippet-end
    CHECK(r.samples.size() == x.shape(0));
}

void jsma(const Net& net, const matrix<float>& x, const label_vector& y)
{
// snippet-begin docs/attacks.md
#include <sleepnet/attacks/jsma.hpp>

sleepnet::JsmaOptions o;                                  // theta 0.1, 500 iterations, 7 changes per pixel
auto r = sleepnet::jsma(net, x, y, o);
o.variant = sleepnet::JsmaOptions::Variant::pairs;        // Papernot's pixel pairs
// snippet-end
    CHECK(r.samples.size() == x.shape(0));
}

void boundary(const Net& net, const matrix<float>& x, const label_vector& y)
{
// snippet-begin docs/attacks.md
#include <sleepnet/attacks/boundary.hpp>

sleepnet::default_engine engine(1);
sleepnet::BoundaryOptions o;             // 1000 steps, 25 candidates, steps 0.01, adaptation 1.5
auto r = sleepnet::boundary(net, x, y, o, engine);
// snippet-end
    CHECK(r.samples.size() == x.shape(0));
}

}  // namespace doc_attacks

TEST_CASE("docs/attacks.md: FGSM, DeepFool, JSMA, Boundary (Patches)")
{
    const auto data = doc_snippets::patches_data();
    const auto net = doc_snippets::patches_network(data);
    doc_attacks::fgsm_minimal(net, data.test.x, data.test.y);
    doc_attacks::deepfool(net, data.test.x, data.test.y);
    doc_attacks::jsma(net, data.test.x, data.test.y);
    doc_attacks::boundary(net, data.test.x, data.test.y);
}
