// Model directories: round trips, precision conversion, and every way a directory can be
// wrong (each a specific exception naming the file).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "support.hpp"

#include <sleepnet/core/read_limits.hpp>
#include <sleepnet/data/npy.hpp>
#include <sleepnet/nn/io.hpp>

using namespace sleepnet;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const std::string& name)
{
    const fs::path p = fs::path(SLEEPNET_TEST_TMP) / "model_io" / name;
    fs::remove_all(p);
    fs::create_directories(p.parent_path());
    return p.string();
}

template <class T>
DenseNetwork<T> random_net(std::vector<std::size_t> sizes, NetworkOptions opt, std::uint64_t seed)
{
    DenseNetwork<T> net(std::move(sizes), opt);
    default_engine eng(seed);
    net.initialize(Init::he(), eng);
    if (opt.bias) {
        for (std::size_t l = 0; l < net.num_layers(); ++l) {
            for (auto& b : net.bias(l)) b = rng::uniform<T>(eng, T(-1), T(1));
        }
    }
    return net;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("round trip keeps structure, options and exact weights")
{
    NetworkOptions opt;
    opt.output = Activation::linear;
    opt.bias = true;
    opt.dropout = 0.25;
    opt.dropout_mode = DropoutMode::inverted;
    const auto net = random_net<double>({7, 5, 3}, opt, 1);
    const std::string dir = fresh_dir("roundtrip");
    save_model(net, dir);
    const auto info = read_model_info(dir);
    CHECK(info.dtype == "float64");
    CHECK(info.layer_sizes == std::vector<std::size_t>{7, 5, 3});
    const auto back = load_model<double>(dir);
    CHECK(back.options().output == Activation::linear);
    CHECK(back.options().bias);
    CHECK(back.options().dropout == 0.25);
    CHECK(back.options().dropout_mode == DropoutMode::inverted);
    for (std::size_t l = 0; l < 2; ++l) {
        CHECK(back.weights(l) == net.weights(l));
        CHECK(back.bias(l) == net.bias(l));
    }
    // stored as out x in
    const auto h = npy::read_header(dir + "/W1.npy");
    CHECK(h.shape == std::vector<std::size_t>{5, 7});
    // float64 weights load into a float network, rounded
    const auto f = load_model<float>(dir);
    CHECK(f.weights(0)(2, 3) == static_cast<float>(net.weights(0)(2, 3)));
}

TEST_CASE("saving over an existing model replaces it whole and leaves no temporary files")
{
    const std::string dir = fresh_dir("replace");
    save_model(random_net<float>({4, 3, 2}, {}, 1), dir);
    const auto second = random_net<float>({6, 2}, {}, 2);
    save_model(second, dir);
    const auto back = load_model<float>(dir);
    CHECK(back.layer_sizes() == std::vector<std::size_t>{6, 2});
    CHECK(!fs::exists(dir + "/W2.npy"));
    std::size_t entries = 0;
    for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path())) {
        (void)e;
        ++entries;
    }
    // the model_io folder holds only the directories the tests made, no *.tmp-* leftovers
    for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path())) {
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    }
    CHECK(entries >= 1);
}

TEST_CASE("a minimal model.json as a numpy user would write it")
{
    const std::string dir = fresh_dir("minimal");
    fs::create_directories(dir);
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [3, 2]})");
    matrix<double> w{{1.0, 2.0, 3.0}, {-1.0, 0.5, 0.0}};
    npy::save(dir + "/W1.npy", w);
    const auto info = read_model_info(dir);
    CHECK(info.dtype == "float64");  // from the weight file
    const auto net = load_model<double>(dir);
    CHECK(net.options().output == Activation::relu);
    CHECK(!net.has_bias());
    CHECK(net.weights(0) == w);
}

TEST_CASE("broken model directories give errors naming the file")
{
    const auto good = random_net<float>({4, 3, 2}, {}, 3);
    auto make = [&](const std::string& name) {
        const std::string dir = fresh_dir(name);
        save_model(good, dir);
        return dir;
    };

    CHECK_THROWS_WITH_AS(load_model<float>(fresh_dir("absent")), doctest::Contains("model.json"), io_error);

    auto dir = make("badjson");
    write_text(dir + "/model.json", "{\"format_version\": 1, ");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("not valid JSON"), format_error);

    dir = make("version");
    write_text(dir + "/model.json", R"({"format_version": 7, "layer_sizes": [4, 3, 2]})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("unknown format_version 7"), format_error);

    dir = make("noversion");
    write_text(dir + "/model.json", R"({"layer_sizes": [4, 3, 2]})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("format_version"), format_error);

    dir = make("sizes");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, 5, 2]})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("W1.npy"), format_error);

    // huge layer sizes are refused from the weight file's header, before anything that
    // size is allocated (a 1e5 x 1e7 layer would be 4 GB); sizes that are not integers
    // (or out of range) are refused before any conversion
    dir = make("huge");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, 10000000, 100000, 2]})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir),
                         doctest::Contains("W1.npy' has shape (3, 4), model.json says (10000000, 4)"), format_error);
    for (const char* bad : {"1e12", "3e38", "2.5", "18446744073709551616"}) {
        CAPTURE(bad);
        dir = make("float_size");
        write_text(dir + "/model.json", std::string(R"({"format_version": 1, "layer_sizes": [4, )") + bad + ", 2]}");
        CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("key 'layer_sizes' must be an integer"),
                             format_error);
    }
    dir = make("float_version");
    write_text(dir + "/model.json", R"({"format_version": 1e30, "layer_sizes": [4, 3, 2]})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("key 'format_version' must be an integer"),
                         format_error);

    dir = make("negative");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, -3, 2]})");
    CHECK_THROWS_AS(load_model<float>(dir), format_error);

    dir = make("type");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": "4,3,2"})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("layer_sizes"), format_error);

    dir = make("activation");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, 3, 2], "output_activation": "tanh"})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("tanh"), format_error);

    dir = make("dropout");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, 3, 2], "dropout": 1.5})");
    CHECK_THROWS_AS(load_model<float>(dir), format_error);

    dir = make("missingw");
    fs::remove(dir + "/W2.npy");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("W2.npy"), io_error);

    dir = make("extra");
    npy::save(dir + "/W3.npy", matrix<float>::from_shape({2, 2}));
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("W3.npy"), format_error);

    dir = make("nan");
    matrix<float> w = good.weights(1);
    w(1, 1) = NAN;
    npy::save(dir + "/W2.npy", w);
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("W2.npy"), numeric_error);

    dir = make("nobias");
    write_text(dir + "/model.json", R"({"format_version": 1, "layer_sizes": [4, 3, 2], "bias": true})");
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("b1.npy"), io_error);

    dir = make("truncated");
    {
        const auto size = fs::file_size(dir + "/W1.npy");
        fs::resize_file(dir + "/W1.npy", size - 5);
    }
    CHECK_THROWS_WITH_AS(load_model<float>(dir), doctest::Contains("W1.npy"), format_error);

    DenseNetwork<float> bad({2, 2});
    bad.weights(0)(0, 0) = INFINITY;
    CHECK_THROWS_AS(save_model(bad, fresh_dir("unsaved")), numeric_error);
    CHECK(!fs::exists(fresh_dir("unsaved")));
}

namespace {

/// The files of the model directory `dir`, as load_model_memory takes them.
ModelFiles read_files(const std::string& dir)
{
    ModelFiles files;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::ifstream in(e.path(), std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (e.path().filename() == "model.json")
            files.model_json = bytes.str();
        else
            files.npy[e.path().filename().string()] = bytes.str();
    }
    return files;
}

/// `files` written as the model directory `dir` (replacing it).
void write_files(const ModelFiles& files, const std::string& dir)
{
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_text(dir + "/model.json", files.model_json);
    for (const auto& [name, bytes] : files.npy) std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

/// What loading gives: the weights, or the exception's type and message.
template <class F>
std::string outcome(F&& load)
{
    return test_support::outcome_text([&] {
        const DenseNetwork<float> net = load();
        std::ostringstream os;
        for (std::size_t l = 0; l < net.num_layers(); ++l)
            for (const float v : net.weights(l)) os << ' ' << v;
        return os.str();
    });
}

}  // namespace

TEST_CASE("a model in memory gives the directory's results and messages")
{
    NetworkOptions opt;
    opt.bias = true;
    const std::string dir = fresh_dir("memory");
    save_model(random_net<float>({4, 3, 2}, opt, 5), dir);
    const ModelFiles good = read_files(dir);
    REQUIRE(good.npy.size() == 4);
    std::vector<ModelFiles> cases(14, good);
    cases[1].model_json = "{\"format_version\": 1, ";
    cases[2].model_json = R"({"format_version": 1, "layer_sizes": [4, 10000000, 100000, 2]})";
    cases[3].model_json = R"({"format_version": 1, "layer_sizes": [4, 5, 2], "bias": true})";
    cases[4].npy.erase("W2.npy");
    cases[5].npy.erase("b1.npy");
    cases[6].npy["W3.npy"] = good.npy.at("W2.npy");
    cases[7].npy["W1.npy"] = good.npy.at("W1.npy").substr(0, good.npy.at("W1.npy").size() - 5);
    cases[8].npy["W2.npy"].back() = '\x7f';  // the last float becomes NaN
    cases[8].npy["W2.npy"][cases[8].npy["W2.npy"].size() - 2] = '\xc0';
    cases[9].model_json = R"({"format_version": 1, "layer_sizes": [4, 3, 2]})";  // dtype from W1, no bias
    cases[10].model_json = R"({"format_version": 1, "layer_sizes": [4, 3, 2], "dtype": "int8"})";
    cases[11].npy.erase("W1.npy");
    cases[11].model_json = cases[9].model_json;
    cases[12].model_json = "[1, 2]";
    cases[13].model_json = R"({"format_version": 1, "layer_sizes": [4, 3, 2]} trailing)";
    for (std::size_t i = 0; i < cases.size(); ++i) {
        CAPTURE(i);
        write_files(cases[i], dir);
        CHECK(outcome([&] { return load_model<float>(dir); }) ==
              outcome([&] { return load_model_memory<float>(cases[i], dir); }));
    }
    CHECK(outcome([&] { return load_model_memory<float>(good, "elsewhere"); }).rfind("ok:", 0) == 0);
    CHECK(read_model_info_memory(good).layer_sizes == std::vector<std::size_t>{4, 3, 2});
}

TEST_CASE("a model.json claiming a weight matrix larger than ReadLimits allows is a limit_error naming it")
{
    const std::string dir = fresh_dir("limits");
    save_model(random_net<float>({4, 3, 2}, {}, 5), dir);
    ReadLimits small;
    small.max_elements = 11;
    CHECK_THROWS_WITH_AS(load_model<float>(dir, small),
                         doctest::Contains("'layer_sizes' give W1.npy: shape (3, 4) has 12 elements, more than the cap "
                                           "ReadLimits::max_elements = 11"),
                         limit_error);
    small.max_elements = 12;
    CHECK(load_model<float>(dir, small).num_layers() == 2);
    // the default cap, from model.json alone: no weight file is read
    ModelFiles files = read_files(dir);
    files.npy.clear();
    files.model_json = R"({"format_version": 1, "layer_sizes": [100000, 100000], "dtype": "float32"})";
    CHECK_THROWS_WITH_AS(load_model_memory<float>(files, "tiny"),
                         doctest::Contains("tiny/model.json: 'layer_sizes' give W1.npy: shape (100000, 100000)"),
                         limit_error);
    files.model_json = R"({"format_version": 1, "layer_sizes": [4294967296, 4294967296], "dtype": "float32"})";
    CHECK_THROWS_WITH_AS(load_model_memory<float>(files, "tiny"), doctest::Contains("more than the cap"), limit_error);
}

namespace {

/// save_model(next, dir) in a child process killed (SIGKILL) just after `step`.
void save_killed_after(const DenseNetwork<float>& next, const std::string& dir, const std::string& step)
{
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        detail::directory_step_hook() = [&](const char* s) {
            if (step == s) ::kill(::getpid(), SIGKILL);
        };
        try {
            save_model(next, dir);
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(2);  // the step was never reached
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
}

/// The entries of dir's parent that belong to dir (dir itself and its temporary siblings).
std::vector<std::string> siblings(const std::string& dir)
{
    std::vector<std::string> out;
    const std::string name = fs::path(dir).filename().string();
    for (const auto& e : fs::directory_iterator(fs::path(dir).parent_path()))
        if (const auto f = e.path().filename().string(); f == name || f.rfind(name + ".", 0) == 0) out.push_back(f);
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

TEST_CASE("a save killed after any step leaves the complete old or new model, and no leftovers once reopened")
{
    const auto old_net = random_net<float>({5, 4, 3}, {}, 1), new_net = random_net<float>({5, 4, 3}, {}, 2);
    // killed before the old model is moved away: the old one stays; after: the new one
    const std::vector<std::pair<std::string, bool>> steps{
        {"created", false},  {"W1.npy", false},   {"W2.npy", false},    {"filled", false},
        {"moved-old", true}, {"moved-new", true}, {"removed-old", true}};
    for (const auto& [step, expect_new] : steps) {
        CAPTURE(step);
        const std::string dir = fresh_dir("killed");
        save_model(old_net, dir);
        save_killed_after(new_net, dir, step);
        if (step == "moved-old") CHECK_FALSE(fs::exists(dir));  // the window: no model until recovered
        const auto back = load_model<float>(dir);
        CHECK(back.weights(0) == (expect_new ? new_net : old_net).weights(0));
        CHECK(back.weights(1) == (expect_new ? new_net : old_net).weights(1));
        CHECK(siblings(dir) == std::vector<std::string>{"killed"});
    }
    // the first save of a directory, killed once its copy is complete: rolled forward
    const std::string dir = fresh_dir("killed_first");
    save_killed_after(new_net, dir, "filled");
    CHECK(load_model<float>(dir).weights(1) == new_net.weights(1));
    // killed while writing: nothing to recover, the leftover is removed by the next save
    const std::string partial = fresh_dir("killed_partial");
    save_killed_after(new_net, partial, "W1.npy");
    CHECK(siblings(partial).size() == 1);  // the incomplete copy
    save_model(old_net, partial);
    CHECK(siblings(partial) == std::vector<std::string>{"killed_partial"});
    CHECK(load_model<float>(partial).weights(0) == old_net.weights(0));
}
