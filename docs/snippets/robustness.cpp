// docs/robustness.md
// clang-format off
#include "snippets.hpp"

namespace doc_robustness {

void attacks(const sleepnet::DenseNetwork<float>& net, const sleepnet::matrix<float>& x, const sleepnet::label_vector& y)
{
// snippet-begin docs/robustness.md
#include <sleepnet/attacks/fmn.hpp>
#include <sleepnet/attacks/pgd.hpp>
#include <sleepnet/attacks/square.hpp>

sleepnet::default_engine engine(1);                  // random starts and Square draw from it
sleepnet::PgdOptions o;                              // APGD, L-inf, CE then margin, 100 steps
auto r = sleepnet::pgd(net, x, y, 0.1, o, engine);   // fixed budget eps = 0.1
double ra = r.robust_accuracy();                     // correct and unbroken / all inputs

auto m = sleepnet::pgd_minimal(net, x, y, o, sleepnet::MinimalEpsilonSearch{}, engine);
double eps = m.median_epsilon();                     // per-sample minimal eps by bisection

auto f = sleepnet::fmn(net, x, y);                   // minimal L-inf norm in one run (FMN)
auto s = sleepnet::square_attack(net, x, y, 0.1, sleepnet::SquareOptions{}, engine);
// snippet-end
    CHECK(ra >= 0.0);
}

}  // namespace doc_robustness

TEST_CASE("docs/robustness.md: APGD, minimal eps, FMN, Square (Patches)")
{
    const auto data = doc_snippets::patches_data();
    const auto net = doc_snippets::patches_network(data);
    doc_robustness::attacks(net, data.test.x, data.test.y);
}
