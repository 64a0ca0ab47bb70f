// libFuzzer target: the robustness audit's options as JSON (attacks/audit_json.hpp,
// audit_options_from_string; the audit's report is written, never read). Options that read
// are written again (to_json) and must read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include <sleepnet/attacks/audit_json.hpp>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    fuzz::json_round_trip(
        [](const std::string& t, const char* origin) { return sleepnet::audit_options_from_string(t, origin); },
        fuzz::text(data, size), "audit options");
    return 0;
}
