// A minimal program that uses sleepnet the way a downstream project would: through the
// CMake package (installed or add_subdirectory), with the umbrella header. Built and run
// by tests/cases_consumer.cmake. It exercises BLAS (a forward pass), zlib-free parts of
// the data layer, the JSON dependency (sleep parameters) and sleep itself.
#include <sleepnet/sleepnet.hpp>

#include <cstdio>

int main()
{
    sleepnet::DenseNetwork<float> net({4, 3, 2});
    net.set_weights(0, sleepnet::matrix<float>{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 1}});
    net.set_weights(1, sleepnet::matrix<float>{{1, 1, 0}, {0, 0, 2}});
    const auto pred = net.predict(sleepnet::matrix<float>{{1, 1, 0, 0}, {0, 0, 1, 1}});
    if (pred(0) != 0 || pred(1) != 1) {
        std::fprintf(stderr, "consumer: unexpected predictions %zu %zu\n", pred(0), pred(1));
        return 1;
    }
    try {
        net.set_weights(0, sleepnet::matrix<float>::from_shape({2, 2}));
        std::fprintf(stderr, "consumer: sleepnet::invalid_argument was not thrown\n");
        return 1;
    } catch (const sleepnet::invalid_argument& e) {
        std::printf("consumer: caught sleepnet::invalid_argument: %s\n", e.what());
    }
    auto params = sleepnet::sleep_params_from_json(nlohmann::json(sleepnet::sleep_preset("mnist-fgsm")));
    params.thresholds = {0.5, 0.5};
    params.alpha = {1.0, 1.0};
    params.steps = 50;
    sleepnet::default_engine engine(1);
    const auto report = sleepnet::sleep(net, sleepnet::matrix<float>{{1, 1, 0, 0}, {0, 0, 1, 1}}, params, engine);
    std::printf("consumer: ok (sleep ran %zu steps)\n", report.steps);
    return report.steps == 50 ? 0 : 1;
}
