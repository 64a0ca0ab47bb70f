"""sleepnet.torch.sleep_: the bias-free Linear layers of a PyTorch model, slept in place."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import sleepnet  # noqa: E402
import sleepnet.torch  # noqa: E402
from conftest import small_params  # noqa: E402


def model(dtype=torch.float32, bias=False):
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 20, bias=bias), torch.nn.ReLU(),
                            torch.nn.Dropout(0.2), torch.nn.Linear(20, 4, bias=bias), torch.nn.ReLU())
    with torch.no_grad():
        for layer in (m[1], m[4]):
            layer.weight.uniform_(-0.1, 0.3)
    return m.to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sleep_changes_the_model_weights_in_place_as_numpy_sleep_does(dtype, x):
    m = model(dtype)
    pointers = [m[1].weight.data_ptr(), m[4].weight.data_ptr()]
    weights = [m[1].weight.detach().numpy().copy(), m[4].weight.detach().numpy().copy()]
    report = sleepnet.torch.sleep_(m, torch.from_numpy(x), small_params(), seed=8)
    assert [m[1].weight.data_ptr(), m[4].weight.data_ptr()] == pointers
    assert report["weights_changed"][0] > 0
    sleepnet.sleep(weights, x, small_params(), seed=8)  # the same sleep on numpy copies
    assert np.array_equal(m[1].weight.detach().numpy(), weights[0])
    assert np.array_equal(m[4].weight.detach().numpy(), weights[1])
    assert m[1].weight.requires_grad  # still a trainable parameter
    m(torch.from_numpy(x).to(dtype)).sum().backward()


def test_models_sleep_cannot_convert_are_refused(x):
    with pytest.raises(sleepnet.InvalidArgument, match="layer '1' has a bias"):
        sleepnet.torch.sleep_(model(bias=True), x, small_params())
    m = torch.nn.Sequential(torch.nn.Linear(30, 4, bias=False), torch.nn.Sigmoid())
    with pytest.raises(sleepnet.InvalidArgument, match=r"module '1' \(Sigmoid\) is not supported"):
        sleepnet.torch.sleep_(m, x, small_params())
    with pytest.raises(TypeError, match="torch.float16"):
        sleepnet.torch.sleep_(model().half(), x, small_params())


def test_weights_that_cannot_be_shared_are_refused_before_anything_changes(x):
    meta = model().to("meta")  # not on the CPU (as a CUDA model would be): no numpy view exists
    with pytest.raises(sleepnet.InvalidArgument, match="layer '1' is on meta; move the model to the CPU"):
        sleepnet.torch.sleep_(meta, x, small_params())
    m = model()
    m[4].weight.data = torch.rand(20, 4).t()  # a transposed view: not contiguous
    before = m[1].weight.detach().clone()
    with pytest.raises(sleepnet.InvalidArgument, match="layer '4' weight is not contiguous"):
        sleepnet.torch.sleep_(m, x, small_params())
    assert torch.equal(m[1].weight, before)  # the first layer was not slept either
