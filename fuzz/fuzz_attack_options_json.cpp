// libFuzzer target: the attacks' options as JSON (attacks/options_json.hpp,
// attack_options_from_string). The first byte of the input chooses the options type, the
// rest is the JSON text. Options that read are written again (to_json) and must read back
// the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sleepnet/attacks/options_json.hpp>

#include "fuzz_common.hpp"

namespace {

template <class O>
void read_as(const std::string& text)
{
    fuzz::json_round_trip(
        [](const std::string& t, const char* origin) { return sleepnet::attack_options_from_string<O>(t, origin); },
        text, "attack options");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0) return 0;
    const std::string text = fuzz::text(data + 1, size - 1);
    switch (data[0] % 8) {
    case 0:
        read_as<sleepnet::FgsmOptions>(text);
        break;
    case 1:
        read_as<sleepnet::DeepFoolOptions>(text);
        break;
    case 2:
        read_as<sleepnet::PgdOptions>(text);
        break;
    case 3:
        read_as<sleepnet::FmnOptions>(text);
        break;
    case 4:
        read_as<sleepnet::SquareOptions>(text);
        break;
    case 5:
        read_as<sleepnet::MinimalEpsilonSearch>(text);
        break;
    case 6:
        read_as<sleepnet::FgsmCertifyOptions>(text);
        break;
    default:
        read_as<sleepnet::Bounds>(text);
        break;
    }
    return 0;
}
