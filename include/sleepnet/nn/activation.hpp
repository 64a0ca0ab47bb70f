#pragma once
// Activation functions of DenseNetwork layers.

#include <string>

#include "../core/error.hpp"

namespace sleepnet {

enum class Activation {
    relu,    ///< max(0, z)
    linear,  ///< z
};

inline std::string to_string(Activation a) { return a == Activation::relu ? "relu" : "linear"; }

inline Activation activation_from_string(const std::string& name)
{
    if (name == "relu") {
        return Activation::relu;
    }
    if (name == "linear") {
        return Activation::linear;
    }
    throw invalid_argument("unknown activation '" + name + "' (expected 'relu' or 'linear')");
}

/// How dropout is applied and undone.
enum class DropoutMode {
    /// The authors' (DeepLearnToolbox) convention: training zeroes a hidden unit with
    /// probability p; at test time hidden activations are multiplied by 1 - p.
    scale_at_test,
    /// Inverted dropout: training zeroes with probability p and scales survivors by
    /// 1 / (1 - p); test time is the identity.
    inverted,
};

inline std::string to_string(DropoutMode m) { return m == DropoutMode::scale_at_test ? "scale_at_test" : "inverted"; }

inline DropoutMode dropout_mode_from_string(const std::string& name)
{
    if (name == "scale_at_test") {
        return DropoutMode::scale_at_test;
    }
    if (name == "inverted") {
        return DropoutMode::inverted;
    }
    throw invalid_argument("unknown dropout mode '" + name + "' (expected 'scale_at_test' or 'inverted')");
}

}  // namespace sleepnet
