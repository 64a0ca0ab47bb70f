#pragma once
// Defensive distillation (Papernot et al. 2016; the paper's first baseline defense, T = 50).
//
//   1. teacher: a fresh network trained on (x, one-hot y) with softmax cross-entropy at
//      temperature T, i.e. p = softmax(logits / T);
//   2. soft labels: softmax(teacher logits / T), computed in TEST mode (no dropout
//      sampled; the test-time dropout scaling of the network's DropoutMode applies);
//   3. student: a fresh network (the teacher's layer sizes unless told otherwise) trained
//      on (x, soft labels) with softmax cross-entropy at the same temperature T;
//   4. the student is used at T = 1: it is just a DenseNetwork, and predict() takes the
//      argmax of its logits (a temperature does not change an argmax).
//
// Differences from the authors' MATLAB code (see docs/defenses.md):
// - their distillation script leaves the output activation as ReLU (a typo), so the
//   softmax at temperature was never applied and T = 50 had no effect; here the networks
//   that distill() trains MUST have a linear output layer (logits):
//   DistillationOptions::network.output == Activation::linear, anything else is rejected
//   with invalid_argument. A ReLU output would clip negative logits to 0 before the
//   softmax and hide the ordering the soft labels are meant to carry.
// - their soft labels were computed with dropout still on (training-mode forward pass);
//   here they come from the deterministic test-mode pass (DenseNetwork::logits).
// distill_from() accepts any trained teacher, including a ReLU-output one (e.g. the
// authors' control network): its soft labels are taken from the last layer's
// pre-activation (the logits), never from the ReLU outputs. The student it trains still
// uses DistillationOptions::network, whose output must be linear.
//
// Note: the gradient of the loss at temperature T is (p - y) / T per sample, so at T = 50
// training moves 50 times more slowly than at T = 1 for the same learning rate (the
// authors kept the learning rate; so do the defaults). Measured on MNIST (1 epoch, init
// +-0.01): lr 0.1 leaves the loss at ln 10 (student 9% accuracy); lr 0.1 * T = 5 gives
// teacher 94.8%, student 94.2% (docs/defenses.md). Scale the learning rate by T.
//
// Randomness: only the caller's engine, in this order: teacher initialization, teacher
// training (shuffles, dropout masks), student initialization, student training.

#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../core/check.hpp"
#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../data/dataset.hpp"
#include "../nn/dense_network.hpp"
#include "../nn/loss.hpp"
#include "../nn/sgd.hpp"
#include "../nn/train.hpp"

namespace sleepnet {

/// Network options for distillation: ReLU hidden layers, LINEAR output (logits), no
/// biases, no dropout.
inline NetworkOptions distillation_network_options()
{
    NetworkOptions o;
    o.output = Activation::linear;
    return o;
}

struct DistillationOptions {
    double temperature = 50.0;  ///< the paper: T = 50
    SgdOptions teacher_sgd;     ///< defaults = the authors' control recipe: lr 0.1, momentum 0.5, batch 100, 2 epochs
    SgdOptions student_sgd;     ///< the paper: same epochs and learning rate as the teacher
    NetworkOptions network = distillation_network_options();  ///< teacher and student; output must be linear
    Init init = Init::uniform(0.01);                          ///< the authors' initialization
    /// Student layer sizes; empty = the teacher's.
    std::vector<std::size_t> student_sizes;

    /// Throws invalid_argument naming the option (prefixed with `who`).
    void validate(const std::string& who = "DistillationOptions") const
    {
        check::finite_positive(who, "temperature", temperature);
        if (network.output != Activation::linear) {
            throw invalid_argument(who + ": network.output must be linear (logits) for a softmax at temperature, got " +
                                   to_string(network.output) +
                                   " (a ReLU output is the authors' typo that made T ineffective)");
        }
        auto check_sgd = [&](const SgdOptions& s, const char* name) {
            try {
                s.validate();
            } catch (const invalid_argument& e) {
                throw invalid_argument(who + ": " + name + ": " + e.what());
            }
        };
        check_sgd(teacher_sgd, "teacher_sgd");
        check_sgd(student_sgd, "student_sgd");
    }
};

template <class T>
struct DistillationStudent {
    DenseNetwork<T> student;
    TrainReport report;
};

template <class T>
struct DistillationResult {
    DenseNetwork<T> teacher;
    DenseNetwork<T> student;
    TrainReport teacher_report;
    TrainReport student_report;
    double temperature = 0.0;
};

/// Soft labels of a teacher: row-wise softmax(logits / temperature), computed in test
/// mode (deterministic, no dropout sampled). N x outputs.
template <class T>
inline matrix<T> soft_labels(const DenseNetwork<T>& teacher, const matrix<T>& x, double temperature)
{
    check::finite_positive("soft_labels", "temperature", temperature);
    teacher.check_input(x, "soft_labels");
    if (x.shape()[0] == 0) {
        throw invalid_argument("soft_labels: no inputs (x has 0 rows)");
    }
    teacher.validate();
    return softmax(teacher.logits(x), temperature);
}

/// Trains a fresh student (layer sizes: options.student_sizes, or the teacher's) on the
/// teacher's soft labels at options.temperature. The teacher is not modified and may
/// have any output activation (soft labels use its logits). Callbacks as in train().
template <class T, class Engine, class... Callbacks>
inline DistillationStudent<T> distill_from(const DenseNetwork<T>& teacher, const matrix<T>& x,
                                           const DistillationOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    options.validate("distill_from");
    teacher.check_input(x, "distill_from");
    if (x.shape()[0] == 0) {
        throw invalid_argument("distill_from: no training samples (x has 0 rows)");
    }
    std::vector<std::size_t> sizes = options.student_sizes.empty() ? teacher.layer_sizes() : options.student_sizes;
    if (sizes.size() < 2 || sizes.front() != teacher.input_size() || sizes.back() != teacher.output_size()) {
        throw invalid_argument("distill_from: student_sizes must start with the teacher's " +
                               std::to_string(teacher.input_size()) + " inputs and end with its " +
                               std::to_string(teacher.output_size()) + " outputs");
    }
    const matrix<T> soft = soft_labels(teacher, x, options.temperature);
    DenseNetwork<T> student(std::move(sizes), options.network);
    student.initialize(options.init, engine);
    TrainReport report =
        train(student, x, soft, SoftmaxCrossEntropy{options.temperature}, options.student_sgd, engine, callbacks...);
    return {std::move(student), report};
}

/// Full defensive distillation from scratch: teacher of layer sizes `sizes` trained on
/// (x, targets) at temperature T, then a student trained on its soft labels. `targets`
/// is N x outputs (one-hot, or any probability rows). Callbacks (as in train()) see
/// the teacher's training, then the student's; a callback stopping early stops only
/// the phase it is in.
template <class T, class Engine, class... Callbacks>
inline DistillationResult<T> distill(const matrix<T>& x, const matrix<T>& targets,
                                     const std::vector<std::size_t>& sizes, const DistillationOptions& options,
                                     Engine& engine, Callbacks&&... callbacks)
{
    options.validate("distill");
    if (sizes.size() < 2) {
        throw invalid_argument("distill: sizes needs at least 2 entries (inputs and outputs), got " +
                               std::to_string(sizes.size()));
    }
    if (x.shape()[0] == 0) {
        throw invalid_argument("distill: no training samples (x has 0 rows)");
    }
    if (x.shape()[1] != sizes.front()) {
        throw invalid_argument("distill: x has shape " + detail::shape_string(x) + " but sizes starts with " +
                               std::to_string(sizes.front()) + " inputs");
    }
    if (targets.shape()[0] != x.shape()[0] || targets.shape()[1] != sizes.back()) {
        throw invalid_argument("distill: targets have shape " + detail::shape_string(targets) + ", expected (" +
                               std::to_string(x.shape()[0]) + ", " + std::to_string(sizes.back()) + ")");
    }
    DenseNetwork<T> teacher(sizes, options.network);
    teacher.initialize(options.init, engine);
    TrainReport teacher_report =
        train(teacher, x, targets, SoftmaxCrossEntropy{options.temperature}, options.teacher_sgd, engine, callbacks...);
    DistillationStudent<T> s = distill_from(teacher, x, options, engine, callbacks...);
    return {std::move(teacher), std::move(s.student), teacher_report, s.report, options.temperature};
}

/// distill() on a labelled data set (one-hot targets); sizes.back() must equal
/// data.classes.
template <class T, class Engine, class... Callbacks>
inline DistillationResult<T> distill(const Dataset<T>& data, const std::vector<std::size_t>& sizes,
                                     const DistillationOptions& options, Engine& engine, Callbacks&&... callbacks)
{
    if (sizes.empty() || sizes.back() != data.classes) {
        throw invalid_argument("distill: data set '" + data.name + "' has " + std::to_string(data.classes) +
                               " classes but sizes ends with " +
                               (sizes.empty() ? std::string("nothing") : std::to_string(sizes.back())) + " outputs");
    }
    if (data.x.shape()[0] != data.y.size()) {
        throw invalid_argument("distill: data set '" + data.name + "' has " + std::to_string(data.x.shape()[0]) +
                               " rows but " + std::to_string(data.y.size()) + " labels");
    }
    return distill(data.x, one_hot<T>(data.y, data.classes), sizes, options, engine,
                   std::forward<Callbacks>(callbacks)...);
}

}  // namespace sleepnet
