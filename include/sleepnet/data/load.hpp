#pragma once
// Loading a data set by name, as the example programs do from the command line.

#include <cstdint>
#include <string>

#include "sleepnet/core/error.hpp"
#include "sleepnet/core/rng.hpp"
#include "sleepnet/data/dataset.hpp"
#include "sleepnet/data/features.hpp"
#include "sleepnet/data/idx.hpp"
#include "sleepnet/data/patches.hpp"

namespace sleepnet {

/// The names load_dataset accepts.
inline const char* dataset_names() { return "mnist, fashion, patches, features, synthetic-features"; }

/// "mnist"              load_mnist(dir)                      (dir required)
/// "fashion"            load_fashion_mnist(dir)              (empty dir: the Debian package's)
/// "patches"            make_patches(default_engine(seed))   (dir ignored)
/// "features"           load_features(dir)                   (dir required)
/// "synthetic-features" make_synthetic_features(default_engine(seed)) (dir ignored)
/// Any other name is an invalid_argument listing the accepted names.
template <class T = float>
inline DataSplits<T> load_dataset(const std::string& name, const std::string& dir, std::uint64_t seed)
{
    auto need_dir = [&]() {
        detail::require(!dir.empty(),
                        "load_dataset: dataset '" + name + "' needs argument 'dir' (got an empty string)");
    };
    if (name == "mnist") {
        need_dir();
        return load_mnist<T>(dir);
    }
    if (name == "fashion") {
        return dir.empty() ? load_fashion_mnist<T>() : load_fashion_mnist<T>(dir);
    }
    if (name == "patches") {
        default_engine engine(seed);
        return make_patches<T>(engine);
    }
    if (name == "features") {
        need_dir();
        return load_features<T>(dir);
    }
    if (name == "synthetic-features") {
        default_engine engine(seed);
        return make_synthetic_features<T>(engine);
    }
    throw invalid_argument("load_dataset: unknown dataset name '" + name + "' (accepted: " + dataset_names() + ")");
}

}  // namespace sleepnet
