// docs/audit.md
// clang-format off
#include "snippets.hpp"

namespace doc_audit {

using Net = sleepnet::DenseNetwork<float>;

void audit(const Net& net, const sleepnet::matrix<float>& x, const sleepnet::label_vector& y, const Net& control)
{
// snippet-begin docs/audit.md
#include <sleepnet/attacks/audit.hpp>

sleepnet::default_engine engine(1);
sleepnet::AuditOptions o;                         // eps 0.1, APGD defaults, L2 curves too
auto r = sleepnet::audit(net, x, y, &control, o, engine);   // surrogate: nullptr for none
for (const auto& c : r.checks)                    // one verdict per line
    std::cout << (c.pass ? "PASS " : "FAIL ") << c.name << ": " << c.value << " vs " << c.reference
              << " (" << c.detail << ")\n";
bool masked = r.masking_suspected();              // a check whose failure means masking failed
bool converged = r.converged();                   // check 5: more effort did not break more
double ra = r.robust_accuracy;                    // worst case at eps over every fixed-budget attack
auto curve = r.linf_curves;                       // {"apgd", "fmn", "fgsm-ce", "fgsm-network", "worst-case"}
double eps0 = r.worst.samples[0].epsilon;         // per-input worst case, minimal L-inf eps
// snippet-end
    CHECK(!r.checks.empty());
}

}  // namespace doc_audit

TEST_CASE("docs/audit.md: audit (Patches)")
{
    const auto data = doc_snippets::patches_data();
    const auto control = doc_snippets::patches_network(data);
    const auto net = doc_snippets::patches_network(data, {100, 4}, 2);
    doc_audit::audit(net, data.test.x, data.test.y, control);
}
