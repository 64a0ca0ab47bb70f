// sleepnet::summarize: count, mean, sample sd (n - 1), min and max against values worked
// out by hand; NaN left out and counted, n = 0 and n = 1 (sd NaN), infinities.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <sleepnet/core/summary.hpp>

using namespace sleepnet;

namespace {
const double qnan = std::numeric_limits<double>::quiet_NaN();
const double pinf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("summarize: analytic mean and sample sd")
{
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32 / 7
    const auto s = summarize({2, 4, 4, 4, 5, 5, 7, 9});
    CHECK(s.n == 8);
    CHECK(s.missing == 0);
    CHECK(s.mean == doctest::Approx(5.0));
    CHECK(s.sd == doctest::Approx(std::sqrt(32.0 / 7.0)));
    CHECK(s.min == 2.0);
    CHECK(s.max == 9.0);
    // 1, 2, 3: mean 2, sample sd 1 (the population sd would be sqrt(2/3))
    const auto t = summarize({3, 1, 2});
    CHECK(t.mean == doctest::Approx(2.0));
    CHECK(t.sd == doctest::Approx(1.0));
    CHECK(t.min == 1.0);
    CHECK(t.max == 3.0);
}

TEST_CASE("summarize: equal values have sd 0, a shift moves only the mean")
{
    const auto s = summarize({0.25, 0.25, 0.25});
    CHECK(s.sd == 0.0);
    CHECK(s.mean == 0.25);
    const auto a = summarize({1e6 + 1, 1e6 + 2, 1e6 + 3});
    CHECK(a.mean == doctest::Approx(1e6 + 2));
    CHECK(a.sd == doctest::Approx(1.0));
}

TEST_CASE("summarize: n = 0 gives NaN everywhere, n = 1 gives the value and sd NaN")
{
    const auto e = summarize({});
    CHECK(e.n == 0);
    CHECK(std::isnan(e.mean));
    CHECK(std::isnan(e.sd));
    CHECK(std::isnan(e.min));
    CHECK(std::isnan(e.max));
    const auto one = summarize({0.4});
    CHECK(one.n == 1);
    CHECK(one.mean == 0.4);
    CHECK(one.min == 0.4);
    CHECK(one.max == 0.4);
    CHECK(std::isnan(one.sd));
}

TEST_CASE("summarize: NaN is left out and counted as missing")
{
    const auto s = summarize({qnan, 1, 2, qnan, 3});
    CHECK(s.n == 3);
    CHECK(s.missing == 2);
    CHECK(s.mean == doctest::Approx(2.0));
    CHECK(s.sd == doctest::Approx(1.0));
    CHECK(s.min == 1.0);
    CHECK(s.max == 3.0);
    const auto all = summarize({qnan, qnan});
    CHECK(all.n == 0);
    CHECK(all.missing == 2);
    CHECK(std::isnan(all.mean));
}

TEST_CASE("summarize: infinities are values, summarize_finite drops and counts them")
{
    const auto s = summarize({1, pinf});
    CHECK(s.n == 2);
    CHECK(s.mean == pinf);
    CHECK(std::isnan(s.sd));
    CHECK(s.max == pinf);
    CHECK(s.min == 1.0);
    const auto f = summarize_finite({1, pinf, 3, -pinf});
    CHECK(f.infinite == 2);
    CHECK(f.finite.n == 2);
    CHECK(f.finite.mean == doctest::Approx(2.0));
    CHECK(f.finite.sd == doctest::Approx(std::sqrt(2.0)));
}
