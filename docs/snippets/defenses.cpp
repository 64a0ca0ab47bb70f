// docs/defenses.md
// clang-format off
#include "snippets.hpp"

namespace doc_defenses {

using Net = sleepnet::DenseNetwork<float>;
using sleepnet::label_vector;
using sleepnet::matrix;

// MNIST files and 784-1200-1200-10 networks: compiled only
void overview()
{
// snippet-begin docs/defenses.md
#include <sleepnet/sleepnet.hpp>

auto data = sleepnet::load_mnist<float>("data/mnist");
sleepnet::default_engine engine(1);

// defensive distillation at T = 50 (teacher and student 784-1200-1200-10, linear output)
sleepnet::DistillationOptions dopt;            // T = 50, authors' SGD (lr 0.1, momentum 0.5, batch 100, 2 epochs)
dopt.network.dropout = 0.2;
auto distilled = sleepnet::distill(data.train, {784, 1200, 1200, 10}, dopt, engine);
double acc = sleepnet::accuracy(distilled.student, data.test);   // the student is used at T = 1

// fine-tuning the control network on FGSM random-step images (the first 5,000 rows replaced)
auto control = sleepnet::load_model<float>("out/control");
auto tuned = sleepnet::finetune(control, data.train, sleepnet::MseLoss{},
                                sleepnet::fgsm_random_step_generator(control),
                                sleepnet::FinetuneOptions{}, engine);    // lr 0.05, 2 epochs
// tuned.network; control is unchanged
// snippet-end
}

void distillation_learning_rate(sleepnet::DistillationOptions& dopt)
{
// snippet-begin docs/defenses.md
dopt.teacher_sgd.learning_rate = dopt.student_sgd.learning_rate = 0.1 * dopt.temperature;
// snippet-end
}

// the generator signature, as a member declaration
namespace signatures {
using namespace sleepnet;
template <class T, class Engine>
struct Generator {
// snippet-begin docs/defenses.md
matrix<T> generator(const matrix<T>& x_subset, const label_vector& y_subset, Engine& engine);
// snippet-end
};
template struct Generator<float, default_engine>;
}  // namespace signatures

void generators(const Net& control)
{
// snippet-begin docs/defenses.md
auto deepfool_images = sleepnet::attack_generator(
    [&](const auto& x, const auto& y) { return sleepnet::deepfool(control, x, y); });
auto noisy = sleepnet::gaussian_noise_generator(0.3, sleepnet::NoiseLevel::variance);
auto blurred = sleepnet::gaussian_blur_generator(28, 28, 1.5);
// snippet-end
}

void adversarial_training(Net& net, const sleepnet::DataSplits<float>& data, sleepnet::default_engine& engine,
                          const matrix<float>& x, const label_vector& y)
{
// snippet-begin docs/defenses.md
sleepnet::AdversarialTrainingOptions adv;   // pgd, epsilon 0.1, 10 steps of 2.5 eps / steps
auto report = sleepnet::adversarial_train(net, data.train, sleepnet::MseLoss{},
                                          sleepnet::SgdOptions{}, adv, engine);   // TrainReport
auto rows = sleepnet::training_adversarials(net, x, y, adv, engine);   // the training attack alone
// snippet-end
    CHECK(rows.shape(0) == x.shape(0));
}

}  // namespace doc_defenses

TEST_CASE("docs/defenses.md: distillation learning rate, generators, adversarial training (Patches)")
{
    sleepnet::DistillationOptions dopt;
    doc_defenses::distillation_learning_rate(dopt);
    CHECK(dopt.teacher_sgd.learning_rate == doctest::Approx(0.1 * dopt.temperature));

    const auto data = doc_snippets::patches_data();
    auto net = doc_snippets::patches_network(data);
    doc_defenses::generators(net);
    sleepnet::default_engine engine(1);
    doc_defenses::adversarial_training(net, data, engine, data.test.x, data.test.y);
}
