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
    fuzz::refusals_allowed([&] {
        const sleepnet::AuditOptions o = sleepnet::audit_options_from_string(fuzz::text(data, size), "fuzz");
        const nlohmann::json j = o;
        const sleepnet::AuditOptions again = sleepnet::audit_options_from_string(j.dump(), "again");
        fuzz::require(nlohmann::json(again) == j, "audit options");
    });
    return 0;
}
