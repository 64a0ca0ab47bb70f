#pragma once
// Activation functions of DenseNetwork layers.

#include <string>

#include "../core/enum_names.hpp"
#include "../core/error.hpp"

namespace sleepnet {

enum class Activation {
    relu,    ///< max(0, z)
    linear,  ///< z
};

template <>
struct EnumNames<Activation> {
    static constexpr const char* kind = "activation";
    static constexpr EnumName<Activation> table[] = {{Activation::relu, "relu"}, {Activation::linear, "linear"}};
};

/// "relu" | "linear".
inline Activation activation_from_string(const std::string& name) { return enum_from_string<Activation>(name); }

/// How dropout is applied and undone.
enum class DropoutMode {
    /// The authors' (DeepLearnToolbox) convention: training zeroes a hidden unit with
    /// probability p; at test time hidden activations are multiplied by 1 - p.
    scale_at_test,
    /// Inverted dropout: training zeroes with probability p and scales survivors by
    /// 1 / (1 - p); test time is the identity.
    inverted,
};

template <>
struct EnumNames<DropoutMode> {
    static constexpr const char* kind = "dropout mode";
    static constexpr EnumName<DropoutMode> table[] = {{DropoutMode::scale_at_test, "scale_at_test"},
                                                      {DropoutMode::inverted, "inverted"}};
};

/// "scale_at_test" | "inverted".
inline DropoutMode dropout_mode_from_string(const std::string& name) { return enum_from_string<DropoutMode>(name); }

}  // namespace sleepnet
