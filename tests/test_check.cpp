// sleepnet::check, the option checks of the validate() functions: each helper accepts
// exactly the values it documents (boundaries included), rejects NaN, infinities, zero and
// negatives as documented, and throws invalid_argument with the exact message text; and
// a few validate() functions built on it keep their messages word for word.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstddef>
#include <limits>
#include <string>

#include <sleepnet/attacks/audit.hpp>
#include <sleepnet/attacks/boundary.hpp>
#include <sleepnet/attacks/square.hpp>
#include <sleepnet/core/check.hpp>
#include <sleepnet/defenses/adversarial.hpp>
#include <sleepnet/snn/sleep.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::message_of;

namespace {

const double qnan = std::numeric_limits<double>::quiet_NaN();
const double pinf = std::numeric_limits<double>::infinity();
const double tiny = std::numeric_limits<double>::denorm_min();
const double huge = std::numeric_limits<double>::max();

}  // namespace

TEST_CASE("check::positive accepts counts and numbers above 0 and rejects 0, negatives and NaN")
{
    CHECK_NOTHROW(check::positive("w", "f", std::size_t{1}));
    CHECK_NOTHROW(check::positive("w", "f", std::numeric_limits<std::size_t>::max()));
    CHECK_NOTHROW(check::positive("w", "f", tiny));
    CHECK_NOTHROW(check::positive("w", "f", pinf));  // only the sign is checked
    CHECK_NOTHROW(check::positive("w", "f", 3));

    CHECK_THROWS_AS(check::positive("w", "f", std::size_t{0}), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", 0.0), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", -0.0), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", -1), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", -tiny), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", -pinf), invalid_argument);
    CHECK_THROWS_AS(check::positive("w", "f", qnan), invalid_argument);

    CHECK(message_of<invalid_argument>([] { check::positive("FgsmOptions", "steps", std::size_t{0}); }) ==
          "FgsmOptions: steps must be > 0");
    CHECK(message_of<invalid_argument>([] { check::positive("search space", "threshold 2", -0.5); }) ==
          "search space: threshold 2 must be > 0");
}

TEST_CASE("check::at_least accepts min and more and names min and the count otherwise")
{
    CHECK_NOTHROW(check::at_least("w", "f", 2, 2));
    CHECK_NOTHROW(check::at_least("w", "f", 3, 2));
    CHECK_NOTHROW(check::at_least("w", "f", 0, 0));
    CHECK_NOTHROW(check::at_least("w", "f", 1, 1));

    CHECK_THROWS_AS(check::at_least("w", "f", 1, 2), invalid_argument);
    CHECK_THROWS_AS(check::at_least("w", "f", 0, 1), invalid_argument);

    CHECK(message_of<invalid_argument>([] { check::at_least("DeepFoolOptions", "candidates", 1, 2); }) ==
          "DeepFoolOptions: candidates must be >= 2, got 1");
    CHECK(message_of<invalid_argument>([] { check::at_least("boundary", "options.candidates", 0, 1); }) ==
          "boundary: options.candidates must be >= 1, got 0");
}

TEST_CASE("check::finite_positive accepts 0 < v < inf and rejects 0, -0, negatives, NaN and infinities")
{
    CHECK_NOTHROW(check::finite_positive("w", "f", tiny));
    CHECK_NOTHROW(check::finite_positive("w", "f", 1.0));
    CHECK_NOTHROW(check::finite_positive("w", "f", huge));

    for (double bad : {0.0, -0.0, -tiny, -1.0, -huge, qnan, pinf, -pinf}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(check::finite_positive("w", "f", bad), invalid_argument);
    }

    CHECK(message_of<invalid_argument>([] { check::finite_positive("softmax", "temperature", 0.0); }) ==
          "softmax: temperature must be finite and > 0, got 0.000000");
    CHECK(message_of<invalid_argument>([] { check::finite_positive("w", "f", -2.5); }) ==
          "w: f must be finite and > 0, got -2.500000");
    CHECK(message_of<invalid_argument>([] { check::finite_positive("w", "f", pinf); }) ==
          "w: f must be finite and > 0, got inf");
    CHECK(message_of<invalid_argument>([] { check::finite_positive("w", "f", 0.0, "(a note)"); }) ==
          "w: f must be finite and > 0, got 0.000000 (a note)");
    CHECK(message_of<invalid_argument>([] { check::finite_positive("w", "f", 0.0, ""); }) ==
          "w: f must be finite and > 0, got 0.000000");
}

TEST_CASE("check::finite_nonnegative accepts 0 <= v < inf and rejects negatives, NaN and infinities")
{
    CHECK_NOTHROW(check::finite_nonnegative("w", "f", 0.0));
    CHECK_NOTHROW(check::finite_nonnegative("w", "f", -0.0));
    CHECK_NOTHROW(check::finite_nonnegative("w", "f", tiny));
    CHECK_NOTHROW(check::finite_nonnegative("w", "f", huge));

    for (double bad : {-tiny, -1.0, -huge, qnan, pinf, -pinf}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(check::finite_nonnegative("w", "f", bad), invalid_argument);
    }

    CHECK(message_of<invalid_argument>([] { check::finite_nonnegative("pgd", "epsilon", -0.25); }) ==
          "pgd: epsilon must be finite and >= 0, got -0.250000");
    CHECK(message_of<invalid_argument>([] { check::finite_nonnegative("w", "f", -pinf, "(note)"); }) ==
          "w: f must be finite and >= 0, got -inf (note)");
}

TEST_CASE("check::in_range honours each kind of interval end and prints the bounds as written")
{
    using check::Interval;
    // (0, 1]
    CHECK_NOTHROW(check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::open_closed));
    CHECK_NOTHROW(check::in_range("w", "f", tiny, 0.0, 1.0, Interval::open_closed));
    CHECK_THROWS_AS(check::in_range("w", "f", 0.0, 0.0, 1.0, Interval::open_closed), invalid_argument);
    CHECK_THROWS_AS(check::in_range("w", "f", 1.0 + 1e-15, 0.0, 1.0, Interval::open_closed), invalid_argument);
    // [0, 1)
    CHECK_NOTHROW(check::in_range("w", "f", 0.0, 0.0, 1.0, Interval::closed_open));
    CHECK_NOTHROW(check::in_range("w", "f", 1.0 - 1e-16, 0.0, 1.0, Interval::closed_open));
    CHECK_THROWS_AS(check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::closed_open), invalid_argument);
    CHECK_THROWS_AS(check::in_range("w", "f", -tiny, 0.0, 1.0, Interval::closed_open), invalid_argument);
    // [0, 1]
    CHECK_NOTHROW(check::in_range("w", "f", 0.0, 0.0, 1.0, Interval::closed));
    CHECK_NOTHROW(check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::closed));
    // (0, 1)
    CHECK_NOTHROW(check::in_range("w", "f", 0.5, 0.0, 1.0, Interval::open));
    CHECK_THROWS_AS(check::in_range("w", "f", 0.0, 0.0, 1.0, Interval::open), invalid_argument);
    CHECK_THROWS_AS(check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::open), invalid_argument);
    // NaN and infinities are never inside
    for (auto kind : {Interval::open, Interval::closed, Interval::open_closed, Interval::closed_open}) {
        CHECK_THROWS_AS(check::in_range("w", "f", qnan, 0.0, 1.0, kind), invalid_argument);
        CHECK_THROWS_AS(check::in_range("w", "f", pinf, 0.0, 1.0, kind), invalid_argument);
        CHECK_THROWS_AS(check::in_range("w", "f", -pinf, 0.0, 1.0, kind), invalid_argument);
    }

    CHECK(message_of<invalid_argument>([] { check::in_range("w", "decay", 0.0, 0.0, 1.0, Interval::open_closed); }) ==
          "w: decay must be in (0, 1], got 0.000000");
    CHECK(message_of<invalid_argument>([] { check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::closed_open); }) ==
          "w: f must be in [0, 1), got 1.000000");
    CHECK(message_of<invalid_argument>([] { check::in_range("w", "f", 2.0, 0.0, 1.0, Interval::closed); }) ==
          "w: f must be in [0, 1], got 2.000000");
    CHECK(message_of<invalid_argument>([] { check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::open); }) ==
          "w: f must be in (0, 1), got 1.000000");
    CHECK(message_of<invalid_argument>([] { check::in_range("w", "p", 0.0, 0.0, 100.0, Interval::open_closed); }) ==
          "w: p must be in (0, 100], got 0.000000");
    CHECK(message_of<invalid_argument>([] { check::in_range("w", "f", 3.0, -0.5, 2.5, Interval::closed); }) ==
          "w: f must be in [-0.5, 2.5], got 3.000000");
    CHECK(message_of<invalid_argument>([] {
              check::in_range("w", "f", 1.0, 0.0, 1.0, Interval::closed_open, "(1 is clean training)");
          }) == "w: f must be in [0, 1), got 1.000000 (1 is clean training)");
}

TEST_CASE("validate functions built on check keep their messages word for word")
{
    SleepParams p;
    p.decay = 0.0;
    CHECK(message_of<invalid_argument>([&] { p.validate(3); }) ==
          "sleep parameters: decay must be in (0, 1], got 0.000000");
    p = SleepParams{};
    p.steps = 0;
    CHECK(message_of<invalid_argument>([&] { p.validate(3); }) == "sleep parameters: steps must be > 0");
    p = SleepParams{};
    p.thresholds[1] = -1.0;
    CHECK(message_of<invalid_argument>([&] { p.validate(3); }) ==
          "sleep parameters: threshold 2 must be finite and > 0, got -1.000000");
    p = SleepParams{};
    p.normalization = NormalizationChain::percentile;
    p.percentile = 0.0;
    CHECK(message_of<invalid_argument>([&] { p.validate(3); }) ==
          "sleep parameters: percentile must be in (0, 100], got 0.000000");

    SquareOptions sq;
    sq.p_init = 1.5;
    CHECK(message_of<invalid_argument>([&] { sq.validate(); }) ==
          "SquareOptions: p_init must be in (0, 1], got 1.500000");

    BoundaryOptions bo;
    bo.spherical_window = 0;
    CHECK(message_of<invalid_argument>([&] { detail::check_boundary_options(bo); }) ==
          "boundary: options.spherical_window must be >= 1, got 0");

    AuditOptions au;
    au.epsilons = {0.1, -0.5};
    CHECK(message_of<invalid_argument>([&] { au.validate(); }) ==
          "AuditOptions: epsilons must be finite and > 0, got -0.500000 at position 1");
    AuditOptions au2;
    au2.tolerance = 1.0;
    CHECK(message_of<invalid_argument>([&] { au2.validate(); }) ==
          "AuditOptions: tolerance must be in [0, 1), got 1.000000");

    AdversarialTrainingOptions at;
    at.epsilon = 0.0;
    CHECK(message_of<invalid_argument>([&] { at.validate(); }) ==
          "AdversarialTrainingOptions: epsilon must be finite and > 0, got 0.000000 (use train() for clean training)");
    at = AdversarialTrainingOptions{};
    at.clean_fraction = 1.0;
    CHECK(message_of<invalid_argument>([&] { at.validate(); }) ==
          "AdversarialTrainingOptions: clean_fraction must be in [0, 1), got 1.000000 (1 is clean training: use "
          "train())");
}
