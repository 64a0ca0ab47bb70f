// JSON adapters (the *_json.hpp headers) and the enum name tables (core/enum_names.hpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <sleepnet/sleepnet.hpp>

#include "support.hpp"

using namespace sleepnet;
using test_support::message_of;

namespace {

/// Every name of E's table reads back as its value, to_string gives a name of the table,
/// and an unknown name is refused with the kind and the list of names.
template <class E>
void check_enum_table(const std::string& kind, const std::string& names)
{
    CAPTURE(kind);
    CHECK(std::string(EnumNames<E>::kind) == kind);
    CHECK(enum_names_list<E>() == names);
    for (const auto& entry : EnumNames<E>::table) {
        CHECK(enum_from_string<E>(entry.name) == entry.value);
        CHECK(enum_from_string<E>(to_string(entry.value)) == entry.value);
    }
    CHECK(message_of<invalid_argument>([] { enum_from_string<E>("bogus"); }) ==
          "unknown " + kind + " 'bogus' (" + names + ")");
}

}  // namespace

TEST_CASE("every enum's names round trip through its table and unknown names are refused with the list")
{
    check_enum_table<Activation>("activation", "relu, linear");
    check_enum_table<DropoutMode>("dropout mode", "scale_at_test, inverted");
    check_enum_table<NormalizationChain>("normalization", "authors, textbook, percentile");
    check_enum_table<StdpRuleKind>("rule", "authors, paper");
    check_enum_table<SleepInput>("input", "sequence, mean");
    check_enum_table<RefitLoss>("loss", "mse, ce");
    check_enum_table<LogitLoss>("logit loss", "ce, margin, dlr, dlr-t");
    check_enum_table<AttackLoss>("attack loss", "network, cross_entropy");
    check_enum_table<Norm>("norm", "linf, l2");
    check_enum_table<PgdMethod>("PGD method", "apgd, pgd");
    check_enum_table<JsmaOptions::Variant>("JSMA variant", "single, pairs");
    check_enum_table<NoiseLevel>("noise level", "std_dev, variance");
    check_enum_table<BorderMode>("border mode", "reflect, replicate, constant_zero");
    check_enum_table<AdversarialTrainingMethod>("adversarial training method", "pgd, fgsm-rs");
    check_enum_table<TuneMethod>("search method", "genetic, random");
    check_enum_table<SelectionSource>("selection source", "before, each");
    check_enum_table<CorrelationMethod>("correlation method", "class_means, mean_pairwise");
    check_enum_table<PixelCategory>("pixel category", "on, overlap, off");
}

TEST_CASE("enum names: the written names, aliases and the named wrappers")
{
    CHECK(to_string(LogitLoss::targeted_dlr) == "dlr-t");
    CHECK(to_string(AdversarialTrainingMethod::fgsm_rs) == "fgsm-rs");
    CHECK(to_string(PixelCategory::on_exclusive) == "on");
    CHECK(to_string(TuneMethod::genetic) == "genetic");  // the alias "ga" is read, never written
    CHECK(tune_method_from_string("ga") == TuneMethod::genetic);
    CHECK(activation_from_string("linear") == Activation::linear);
    CHECK(dropout_mode_from_string("inverted") == DropoutMode::inverted);
    CHECK(normalization_from_string("percentile") == NormalizationChain::percentile);
    CHECK(logit_loss_from_string("margin") == LogitLoss::margin);
    CHECK(norm_from_string("l2") == Norm::l2);
    CHECK(adversarial_training_method_from_string("pgd") == AdversarialTrainingMethod::pgd);
    CHECK(message_of<invalid_argument>([] { activation_from_string("tanh"); }) ==
          "unknown activation 'tanh' (relu, linear)");
    CHECK(message_of<invalid_argument>([] { to_string(static_cast<Norm>(7)); }) == "norm: no name for value 7");
}

TEST_CASE("SleepParams and SleepReport round trip through JSON and refuse unknown keys")
{
    SleepParams p = sleep_preset("mnist-deepfool");
    p.rule = StdpRuleKind::paper;
    p.normalization = NormalizationChain::percentile;
    p.input = SleepInput::mean;
    p.alpha = {1.5, 2.5, 3.5};
    p.include_output = false;
    const nlohmann::json j = p;
    const auto back = j.get<SleepParams>();
    CHECK(nlohmann::json(back) == j);
    CHECK(back.rule == StdpRuleKind::paper);
    CHECK(back.normalization == NormalizationChain::percentile);
    CHECK(back.input == SleepInput::mean);
    CHECK(back.alpha == p.alpha);
    CHECK(back.thresholds == p.thresholds);
    CHECK(back.steps == p.steps);
    CHECK(back.provenance == p.provenance);

    // from_json overlays: keys absent from j keep the target's values
    SleepParams base;
    base.steps = 11;
    from_json(nlohmann::json{{"rate", 5.0}}, base);
    CHECK(base.rate == 5.0);
    CHECK(base.steps == 11);
    CHECK(sleep_params_from_json({{"dec", 0.5}}, base).steps == 11);

    CHECK(message_of<invalid_argument>([] {
              sleep_params_from_json({{"treshold", 1}});
          }) == "sleep parameters: unknown key 'treshold'");
    CHECK(message_of<invalid_argument>([] { sleep_params_from_json(nlohmann::json::array()); }) ==
          "sleep parameters: expected a JSON object");
    CHECK(message_of<invalid_argument>([] {
              sleep_params_from_json({{"rate", "fast"}});
          }) == "sleep parameters: key 'rate' has the wrong type (\"fast\")");
    CHECK(message_of<invalid_argument>([] {
              sleep_params_from_json({{"rule", "hebb"}});
          }) == "sleep parameters: unknown rule 'hebb' (authors, paper)");

    SleepReport r;
    r.steps = 7;
    r.stopped_early = true;
    r.input_spikes = 123;
    r.spikes = {4, 5};
    r.neurons_spiked = {1, 2};
    r.neurons = {10, 3};
    r.weights_changed = {6, 0};
    r.weights = {40, 30};
    r.alpha = {0.5, 2.0};
    r.thresholds = {1.0, 2.0};
    r.seconds = 0.25;
    const nlohmann::json jr = r;
    CHECK(nlohmann::json(jr.get<SleepReport>()) == jr);
    CHECK(jr["input_spikes"] == 123);
    auto bad = jr;
    bad["spike"] = 1;
    CHECK(message_of<invalid_argument>([&] { (void)bad.get<SleepReport>(); }) == "sleep report: unknown key 'spike'");
}

TEST_CASE("AttackSample, AttackResult and CurvePoint convert through ADL adapters")
{
    AttackSample s;
    s.index = 3;
    s.label = 1;
    s.clean_prediction = 1;
    s.attempted = true;
    s.success = false;
    s.adversarial_prediction = 1;
    s.epsilon = std::numeric_limits<double>::infinity();
    s.iterations = 9;
    const nlohmann::json j = s;
    CHECK(j["distance"].is_null());
    CHECK(j["epsilon"].is_null());
    CHECK(j["prediction"] == 1);
    const auto back = j.get<AttackSample>();
    CHECK(nlohmann::json(back) == j);
    CHECK(std::isinf(back.distance));
    CHECK(std::isinf(back.epsilon));

    AttackSample plain;  // epsilon NaN: not written, and absent reads back as NaN
    plain.distance = 0.5;
    const nlohmann::json jp = plain;
    CHECK_FALSE(jp.contains("epsilon"));
    CHECK(std::isnan(jp.get<AttackSample>().epsilon));
    CHECK(jp.get<AttackSample>().distance == 0.5);
    auto typo = jp;
    typo["eps"] = 0.1;
    CHECK(message_of<invalid_argument>([&] { (void)typo.get<AttackSample>(); }) == "attack sample: unknown key 'eps'");

    AttackResult<float> result;
    result.attack = "fgsm";
    result.samples = {s, plain};
    const nlohmann::json jres = result;  // a template: found by ADL as well
    CHECK(jres["attack"] == "fgsm");
    CHECK(jres["attempted"] == 1);
    CHECK(jres["successes"] == 0);
    CHECK(jres["rows"] == nlohmann::json({j, jp}));

    const std::vector<CurvePoint> curve = make_curve({0.0, 0.5}, {0.9, 0.4});
    const nlohmann::json jc = curve;
    CHECK(jc == nlohmann::json::parse(R"([{"level": 0.0, "accuracy": 0.9}, {"level": 0.5, "accuracy": 0.4}])"));
    const auto curve_back = jc.get<std::vector<CurvePoint>>();
    REQUIRE(curve_back.size() == 2);
    CHECK(curve_back[1].level == 0.5);
    CHECK(curve_back[1].accuracy == 0.4);
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json({{"level", 1.0}, {"acc", 0.5}}).get<CurvePoint>();
          }) == "curve point: unknown key 'acc'");
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json({{"level", 1.0}}).get<CurvePoint>();
          }) == "curve point: needs 'level' and 'accuracy'");
}

TEST_CASE("options and reports of the defenses and the analyses convert with j = x")
{
    AdversarialTrainingOptions adv;
    adv.method = AdversarialTrainingMethod::fgsm_rs;
    adv.attack_loss = LogitLoss::margin;
    const nlohmann::json ja = adv;
    CHECK(ja["method"] == "fgsm-rs");
    CHECK(ja["attack_loss"] == "margin");
    CHECK(ja["bounds"] == nlohmann::json({0.0, 1.0}));

    DistillationOptions d;
    d.student_sizes = {4, 3};
    const nlohmann::json jd = d;
    CHECK(jd["output"] == "linear");
    CHECK(jd["teacher_sgd"]["batch_size"] == d.teacher_sgd.batch_size);
    CHECK(jd["student_sizes"] == nlohmann::json({4, 3}));

    FinetuneReport f;
    f.rows = {1, 2, 3};
    CHECK(nlohmann::json(f)["replaced"] == 3);

    CorrelationAnalysis c;
    c.method = CorrelationMethod::mean_pairwise;
    c.classes = 2;
    c.layers.push_back({0, 5, matrix<double>({{1.0, std::nan("")}, {0.5, 1.0}}), {0, 0}});
    const nlohmann::json jc = c;
    CHECK(jc["method"] == "mean_pairwise");
    CHECK(jc["layers"][0]["correlation"][0][1].is_null());
    CHECK(jc["layers"][0]["correlation"][1][0] == 0.5);

    SelectivityAnalysis sel;
    sel.selection = SelectionSource::each;
    CHECK(nlohmann::json(sel)["selection"] == "each");

    WeightSpread ws;
    ws.mean_spread = std::numeric_limits<double>::quiet_NaN();
    CHECK(nlohmann::json(ws)["mean_spread"].is_null());
}
