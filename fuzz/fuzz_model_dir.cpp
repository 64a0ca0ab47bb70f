// libFuzzer target: model directories (nn/io.hpp) read from memory by load_model_memory,
// the code load_model runs on a directory's files.
//
// Framing of an input (docs/fuzzing.md): parts separated by the 3 bytes "\n#\n"; the first
// part is the text of model.json, each further part is "<file name>\n<file bytes>" (e.g.
// "W1.npy\n\x93NUMPY..."). A model that loads is written again (model.json as save_model
// writes it, the weights by xtensor's npy writer) and must load back the same.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <xtensor/xnpy.hpp>

#include <sleepnet/nn/io.hpp>

#include "fuzz_common.hpp"

namespace {

sleepnet::ModelFiles split(const std::string& input)
{
    const std::string sep = "\n#\n";
    sleepnet::ModelFiles files;
    std::size_t at = input.find(sep);
    files.model_json = input.substr(0, at);
    while (at != std::string::npos) {
        const std::size_t begin = at + sep.size();
        at = input.find(sep, begin);
        const std::string part = input.substr(begin, at == std::string::npos ? std::string::npos : at - begin);
        const std::size_t nl = part.find('\n');
        files.npy[part.substr(0, nl)] = nl == std::string::npos ? std::string() : part.substr(nl + 1);
    }
    return files;
}

template <class E>
std::string npy_bytes(const E& e)
{
    std::ostringstream out;
    xt::detail::dump_npy_stream(out, e);
    return out.str();
}

void round_trip(const sleepnet::DenseNetwork<float>& net, const sleepnet::ReadLimits& limits)
{
    sleepnet::ModelFiles files;
    files.model_json = sleepnet::detail::model_json(net).dump(2);
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        files.npy["W" + std::to_string(l + 1) + ".npy"] = npy_bytes(net.weights(l));
        if (net.has_bias()) files.npy["b" + std::to_string(l + 1) + ".npy"] = npy_bytes(net.bias(l));
    }
    const auto back = sleepnet::load_model_memory<float>(files, "again", limits);
    fuzz::require(back.layer_sizes() == net.layer_sizes(), "model layer sizes");
    fuzz::require(sleepnet::detail::model_json(back) == sleepnet::detail::model_json(net), "model.json");
    for (std::size_t l = 0; l < net.num_layers(); ++l) {
        fuzz::require(back.weights(l) == net.weights(l), "model weights");
        if (net.has_bias()) fuzz::require(back.bias(l) == net.bias(l), "model bias");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const sleepnet::ModelFiles files = split(fuzz::text(data, size));
    const sleepnet::ReadLimits limits = fuzz::limits();
    bool info_ok = false;
    fuzz::refusals_allowed([&] {
        sleepnet::read_model_info_memory(files, "fuzz");
        info_ok = true;
    });
    if (!info_ok) return 0;  // load_model_memory reads model.json first and would refuse it the same way
    fuzz::refusals_allowed([&] { round_trip(sleepnet::load_model_memory<float>(files, "fuzz", limits), limits); });
    return 0;
}
