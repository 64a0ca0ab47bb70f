// JSON adapters (the *_json.hpp headers) and the enum name tables (core/enum_names.hpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
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
    check_enum_table<FgsmSearch>("FGSM search", "grid, bisection");
    check_enum_table<OvershootMode>("overshoot mode", "per_step, at_end");
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

TEST_CASE("json_read checks an integer's kind and range before converting it")
{
    const auto j = nlohmann::json::parse(
        R"({"u": 4294967295, "big": 4294967296, "neg": -1, "frac": 1.5, "huge": 1e30, "str": "3", "i": -2147483648})");
    std::uint32_t u = 0;
    detail::json_read(j, "u", u, "T");
    CHECK(u == 4294967295u);
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "big", u, "T"); }) ==
          "T: key 'big' is out of range (4294967296)");
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "neg", u, "T"); }) ==
          "T: key 'neg' must be a non-negative integer (got -1)");
    std::size_t n = 7;
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "frac", n, "T"); }) ==
          "T: key 'frac' must be a non-negative integer (got 1.5)");
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "huge", n, "T"); }) ==
          "T: key 'huge' must be a non-negative integer (got 1e+30)");
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "str", n, "T"); }) ==
          "T: key 'str' must be a non-negative integer (got \"3\")");
    CHECK(n == 7);  // nothing written on error
    std::int32_t i = 0;
    detail::json_read(j, "i", i, "T");
    CHECK(i == std::numeric_limits<std::int32_t>::min());
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "big", i, "T"); }) ==
          "T: key 'big' is out of range (4294967296)");
    CHECK(message_of<invalid_argument>([&] { detail::json_read(j, "frac", i, "T"); }) ==
          "T: key 'frac' must be an integer (got 1.5)");
    CHECK(message_of<format_error>([&] { detail::json_read<int, format_error>(j, "huge", i, "F"); }) ==
          "F: key 'huge' must be an integer (got 1e+30)");
}

TEST_CASE("json_read checks every element of an integer array (the sleep report's counts)")
{
    std::vector<std::size_t> v{7};
    detail::json_read(nlohmann::json::parse(R"({"v": [0, 3]})"), "v", v, "T");
    CHECK(v == std::vector<std::size_t>{0, 3});
    for (const char* bad : {"3e38", "-1", "1.5"}) {
        CAPTURE(std::string(bad));
        const auto j = nlohmann::json::parse(std::string(R"({"v": [2, )") + bad + "]}");
        CHECK(test_support::contains(message_of<invalid_argument>([&] { detail::json_read(j, "v", v, "T"); }),
                                     "T: key 'v' must be a non-negative integer"));
        CHECK(v == std::vector<std::size_t>{0, 3});  // nothing written on error
        for (const char* key : {"spikes", "neurons_spiked", "neurons", "weights_changed", "weights"}) {
            CAPTURE(std::string(key));
            nlohmann::json r = SleepReport{};
            r[key] = nlohmann::json::array({1, j.at("v").at(1)});
            CHECK(
                test_support::contains(message_of<invalid_argument>([&] { (void)r.get<SleepReport>(); }),
                                       std::string("sleep report: key '") + key + "' must be a non-negative integer"));
        }
    }
    CHECK(message_of<invalid_argument>([&] {
              detail::json_read(nlohmann::json{{"v", 3}}, "v", v, "T");
          }) == "T: key 'v' must be an array of integers (got 3)");
}

namespace {

/// o survives o -> JSON -> a default O overlaid with it, and every written key is read.
template <class O>
void check_round_trip(const O& o)
{
    const nlohmann::json j = o;
    O back;
    from_json(j, back);
    CHECK(nlohmann::json(back) == j);
    const O defaults;
    CHECK(nlohmann::json(back) != nlohmann::json(defaults));  // the case changes a default, so the keys are read
}

}  // namespace

TEST_CASE("attack options round trip through JSON, overlay defaults and refuse unknown keys by path")
{
    FgsmOptions f;
    f.search = FgsmSearch::bisection;
    f.loss = AttackLoss::cross_entropy;
    f.bounds = {-1.0, 2.0};
    f.grid.certify.leaf = 5;
    f.bisection.iterations = 3;
    check_round_trip(f);
    DeepFoolOptions d;
    d.mode = OvershootMode::at_end;
    d.clip = true;
    check_round_trip(d);
    PgdOptions p = PgdOptions::thorough();
    p.norm = Norm::l2;
    p.step_size = 0.25;
    check_round_trip(p);
    FmnOptions m;
    m.gamma_final = 0.5;
    check_round_trip(m);
    SquareOptions q;
    q.height = 4;
    check_round_trip(q);
    check_round_trip(MinimalEpsilonSearch{0.5, 0.01, 0.2, true});

    PgdOptions overlay;  // absent keys keep the target's values
    nlohmann::json{{"steps", 7}, {"losses", {"margin"}}}.get_to(overlay);
    CHECK(overlay.steps == 7);
    CHECK(overlay.losses == std::vector<LogitLoss>{LogitLoss::margin});
    CHECK(overlay.restarts == PgdOptions{}.restarts);

    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json{{"stpes", 1}}.get<PgdOptions>();
          }) == "PgdOptions: unknown key 'stpes'");
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json::parse(R"({"grid": {"certify": {"leaf": -1}}})").get<FgsmOptions>();
          }) == "FgsmOptions: grid: FgsmGridOptions: certify: FgsmCertifyOptions: key 'leaf' must be a non-negative "
                "integer (got -1)");
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json{{"losses", {"ce", "hinge"}}}.get<PgdOptions>();
          }) == "PgdOptions: unknown logit loss 'hinge' (ce, margin, dlr, dlr-t)");
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json{{"bounds", {0.0}}}.get<SquareOptions>();
          }) == "SquareOptions: bounds: Bounds: expected [lo, hi], got [0.0]");
}

TEST_CASE("the audit's options, checks and report convert to JSON with the checks' short keys")
{
    AuditOptions o;
    o.epsilons = {0.1, 0.2};
    o.attack.steps = 9;
    o.search.tolerance = 0.05;
    o.l2 = false;
    check_round_trip(o);
    CHECK(message_of<invalid_argument>([] {
              (void)nlohmann::json{{"attack", {{"step", 1}}}}.get<AuditOptions>();
          }) == "AuditOptions: attack: PgdOptions: unknown key 'step'");

    namespace c = audit_checks;
    const std::vector<std::pair<const char*, const char*>> keys{
        {c::iterative, "iterative"}, {c::reaches_zero, "reaches_zero"}, {c::black_box, "black_box"},
        {c::transfer, "transfer"},   {c::converged, "converged"},       {c::noise, "noise"},
        {c::margin, "margin"}};
    for (const auto& [name, key] : keys) CHECK(audit_check_key(name) == key);
    CHECK(message_of<invalid_argument>([] { audit_check_key("speed"); }) == "audit_check_key: unknown check 'speed'");

    AuditReport<float> r;
    r.checks = {{c::iterative, true, 0.5, 0.4, "ok", true}, {c::converged, false, 0.3, 0.2, "moved", false}};
    r.epsilons = {0.1};
    r.linf_curves = {{"apgd", {0.25}}};
    AttackSample hit, skipped;
    hit.index = 4;
    hit.attempted = true;
    hit.epsilon = 0.125;
    skipped.index = 5;
    r.worst.samples = {hit, skipped};
    AttackSample hit_l2 = hit;
    hit_l2.epsilon = std::numeric_limits<double>::infinity();
    r.worst_l2.samples = {hit_l2, skipped};
    const nlohmann::json j = r;
    CHECK(j["passed"] == nlohmann::json({{"iterative", 1}, {"converged", 0}}));
    CHECK(j["failed"] == 1);
    CHECK(j["masking_suspected"] == false);  // the failed check does not indicate masking
    CHECK(j["converged"] == false);
    CHECK(j["robust_accuracy"].is_null());  // NaN until measured
    CHECK(j["checks"][1] == nlohmann::json({{"name", c::converged},
                                            {"key", "converged"},
                                            {"pass", false},
                                            {"value", 0.3},
                                            {"reference", 0.2},
                                            {"detail", "moved"},
                                            {"masking", false}}));
    CHECK(j["curves"]["linf"] == nlohmann::json({{"budgets", {0.1}}, {"robust_accuracy", {{"apgd", {0.25}}}}}));
    CHECK(j["worst_case"][0] ==
          nlohmann::json({{"index", 4}, {"label", 0}, {"attempted", true}, {"linf", 0.125}, {"l2", nullptr}}));
    CHECK(j["worst_case"][1] == nlohmann::json({{"index", 5}, {"label", 0}, {"attempted", false}}));
}

namespace {

/// What `read` gives: its result as JSON text, or the exception's type and message.
template <class F>
std::string json_outcome(F&& read)
{
    return test_support::outcome_text([&] { return nlohmann::json(read()).dump(); });
}

}  // namespace

TEST_CASE("the JSON readers of files and of strings give the same values and messages")
{
    const std::string dir = test_support::fresh_dir("json", "strings");
    const std::string path = dir + "/params.json";
    const std::vector<std::string> texts = {R"({"preset": "mnist-fgsm", "steps": 12})",
                                            R"({"rate": 3, "refit": {"epochs": 2, "loss": "ce"}})",
                                            R"({"rate": 3} trailing)",
                                            R"({"steps": -1})",
                                            R"({"stesp": 3})",
                                            R"({"refit": {"epochs": 2.5}})",
                                            R"({"refit": {"ephocs": 2}})",
                                            R"([1, 2])",
                                            "{",
                                            ""};
    for (const auto& text : texts) {
        CAPTURE(text);
        test_support::write_bytes(path, text);
        CHECK(json_outcome([&] { return load_sleep_params(path); }) ==
              json_outcome([&] { return sleep_params_from_string(text, path); }));
        const auto refit_file = json_outcome([&] { return load_refit_plan(path).value_or(RefitPlan{}); });
        CHECK(refit_file == json_outcome([&] { return refit_plan_from_string(text, path).value_or(RefitPlan{}); }));
    }
    CHECK(sleep_params_from_string(texts[0]).steps == 12);
    CHECK(refit_plan_from_string(texts[1])->options.sgd.epochs == 2);
    CHECK(!refit_plan_from_string(texts[0]).has_value());
    CHECK(message_of<invalid_argument>([&] { sleep_params_from_string(texts[4], "here"); }) ==
          "here: sleep parameters: unknown key 'stesp'");
    CHECK(message_of<format_error>([&] { sleep_params_from_string("{", "here"); }).rfind("here: not valid JSON", 0) ==
          0);

    // the tune log: JSON lines, the last one dropped when it has no newline
    TuneCandidate c;
    c.genes = {0.5, 0.25};
    c.spikes = {3, 4};
    const std::string header = R"({"kind": "tune", "format_version": 2})";
    const std::string line = nlohmann::json(c).dump();
    const std::vector<std::string> logs = {header + "\n" + line + "\n",
                                           header + "\n" + line,
                                           header + "\n\n" + line + "\n",
                                           line + "\n",
                                           header + "\n" + R"({"kind": "candidate", "index": 1})" + "\n",
                                           header + "\nnot json\n",
                                           ""};
    const std::string log_path = dir + "/tune.jsonl";
    auto log_json = [](const detail::TuneLogContents& log) {
        nlohmann::json j{{"header", log.header}, {"candidates", nlohmann::json::array()}};
        for (const auto& cand : log.candidates) j["candidates"].push_back(cand);
        return j;
    };
    for (const auto& text : logs) {
        CAPTURE(text);
        test_support::write_bytes(log_path, text);
        CHECK(json_outcome([&] { return log_json(detail::read_tune_log(log_path)); }) ==
              json_outcome([&] { return log_json(detail::read_tune_log_text(text, log_path)); }));
    }
    CHECK(detail::read_tune_log_text(logs[0], "x").candidates.size() == 1);
    CHECK(detail::read_tune_log_text(logs[1], "x").candidates.empty());

    // options with no file loader: the string reader is the JSON adapter on the parsed text
    CHECK(audit_options_from_string(R"({"square_queries": 7})").square_queries == 7);
    CHECK(attack_options_from_string<PgdOptions>(R"({"steps": 9})", "pgd", PgdOptions::thorough()).steps == 9);
    CHECK(attack_options_from_string<PgdOptions>("{}", "pgd", PgdOptions::thorough()).restarts ==
          PgdOptions::thorough().restarts);
    CHECK(message_of<invalid_argument>([] { audit_options_from_string(R"({"bogus": 1})", "audit.json"); }) ==
          "audit.json: AuditOptions: unknown key 'bogus'");
    CHECK(message_of<format_error>([] {
              attack_options_from_string<FmnOptions>("{", "fmn.json");
          }).rfind("fmn.json: not valid JSON", 0) == 0);
}
