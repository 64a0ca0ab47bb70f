"""sleepnet.torch: sleep the bias-free ``nn.Linear`` layers of a PyTorch model in place.

    import sleepnet.torch
    report = sleepnet.torch.sleep_(model, x, sleepnet.preset("mnist-fgsm"), seed=1)

The weights are shared with the tensors through ``weight.detach().numpy()`` (no copy is
ever slept); the model must be a stack of Linear layers without bias, with only ReLU,
Dropout and Flatten modules between them (the function sleep assumes), on the CPU.
"""

import numpy as np
import torch

import sleepnet

_NEUTRAL = (torch.nn.ReLU, torch.nn.Dropout, torch.nn.Flatten, torch.nn.Identity)


def linear_layers(model):
    """The nn.Linear modules of ``model`` in order; any other module that changes the
    function (everything but ReLU, Dropout, Flatten, containers) is refused."""
    layers = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            if module.bias is not None:
                raise sleepnet.InvalidArgument(
                    f"sleepnet.torch: layer '{name}' has a bias; sleep converts bias-free networks "
                    "(build it with nn.Linear(..., bias=False))")
            layers.append((name, module))
        elif isinstance(module, _NEUTRAL) or len(list(module.children())) > 0:
            continue
        else:
            raise sleepnet.InvalidArgument(
                f"sleepnet.torch: module '{name}' ({type(module).__name__}) is not supported; "
                "only Linear (no bias), ReLU, Dropout and Flatten")
    if not layers:
        raise sleepnet.InvalidArgument("sleepnet.torch: the model has no nn.Linear layer")
    return layers


def _shared_array(name, weight):
    """The numpy array sharing ``weight``'s memory, or an error saying why there is none."""
    if weight.device.type != "cpu":
        raise sleepnet.InvalidArgument(f"sleepnet.torch: layer '{name}' is on {weight.device}; move the model to the CPU")
    if weight.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"sleepnet.torch: layer '{name}' has dtype {weight.dtype}, expected float32 or float64")
    if not weight.is_contiguous():
        raise sleepnet.InvalidArgument(f"sleepnet.torch: layer '{name}' weight is not contiguous")
    array = weight.detach().numpy()
    if array.__array_interface__["data"][0] != weight.data_ptr():
        raise sleepnet.InvalidArgument(f"sleepnet.torch: layer '{name}' weight is not shared with numpy")
    return array


def sleep_(model, x, params, *, seed=1, network=None, **kwargs):
    """Sleeps the Linear weights of ``model`` in place (the trailing underscore is PyTorch's
    in-place convention) and returns the report dict. ``x`` is a tensor or array of sleep
    inputs (N x inputs in [0, 1]); the other arguments are those of ``sleepnet.sleep``.
    ``network`` defaults to ReLU hidden and output layers without dropout scaling (PyTorch's
    inverted dropout needs none); pass {"output_activation": "linear"} for a linear output."""
    layers = linear_layers(model)
    weights = [_shared_array(name, module.weight) for name, module in layers]
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    with torch.no_grad():
        return sleepnet.sleep(weights, np.asarray(x), params, seed=seed, network=network, **kwargs)
