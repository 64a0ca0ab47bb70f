#!/usr/bin/python3
"""PyTorch -> sleepnet: the paper's MNIST MLP trained in PyTorch, slept, checked and audited.

  1. trains 784-1200-1200-10 (nn.Linear without bias, ReLU after every layer including the
     output, dropout 0.2 after the hidden layers: the authors' network and recipe of paper
     Table 2, as `train --dataset mnist` does) with SGD lr 0.1, momentum 0.5, batch 100, the
     authors' MSE loss, 2 epochs, torch.manual_seed(--seed);
  2. saves it as a model directory (the "before" model, sleepnet.save_model);
  3. sleeps the torch model in place (sleepnet.torch.sleep_) with a parameter file and seed,
     on the whole training set (the input the `sleep` program loads; --quick too);
  4. runs the C++ `sleep` program on the saved model directory with the same parameter file
     and seed and checks that its weights are bit-identical to the torch model's (exit
     status 1 if not);
  5. evaluates before vs after on the MNIST test set: accuracy, FGSM median minimal epsilon,
     APGD (CE + margin) robust accuracy at L-inf 0.1, and audits the slept network
     (sleepnet.audit, the control as surrogate);
  6. writes a JSON summary (--json).

  PYTHONPATH=build/release/python OPENBLAS_NUM_THREADS=1 /usr/bin/python3 examples/python/torch_mnist.py \\
      --sleep-exe build/release/examples/sleep --data data/mnist --out out/torch-mnist --json torch-mnist.json
  ... --quick --check      (20,000 training images, 1 epoch, 200 attacked and audited images, a short audit;
                            --check asserts a few sanity conditions, as the CTest case does)

With the authors' small initialisation (uniform +-0.01) and MSE loss the network learns
slowly at first: 6,000 images for 1 epoch reach about 0.5 test accuracy, 20,000 about 0.87.

PyTorch's nn.Dropout is inverted dropout (scaled by 1/(1-p) in training, identity at test
time), so the model directory says "dropout_mode": "inverted": sleepnet then computes the
same function as the torch model in eval mode (no test-time scaling), and the sleep
normalization sees the activations torch computes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

import sleepnet
import sleepnet.torch

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--sleep-exe", required=True, help="the built `sleep` example program")
    ap.add_argument("--data", default="data/mnist", help="MNIST directory (scripts/fetch-data.sh)")
    ap.add_argument("--params", default=os.path.join(HERE, "..", "params", "mnist.json"),
                    help="sleep parameter file (default examples/params/mnist.json)")
    ap.add_argument("--seed", type=int, default=1, help="torch.manual_seed and the sleep seed")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--epochs", type=int, default=None, help="training epochs (default 2, --quick 1)")
    ap.add_argument("--train-count", type=int, default=None,
                    help="train on the first N training images (default all 60,000, --quick 20,000)")
    ap.add_argument("--attack-count", type=int, default=None,
                    help="attack the first N test images with FGSM and APGD (default all 10,000, --quick 200)")
    ap.add_argument("--audit-count", type=int, default=None,
                    help="audit the first N test images (default 500, --quick 200)")
    ap.add_argument("--dropout", type=float, default=0.2, help="hidden dropout (paper Table 2: 0.2)")
    ap.add_argument("--init-scale", type=float, default=0.01,
                    help="weights start uniform in +-init-scale (the authors' initialisation)")
    ap.add_argument("--quick", action="store_true", help="the short run of the CTest case (well under a minute)")
    ap.add_argument("--check", action="store_true", help="assert sanity conditions on the results (CTest)")
    ap.add_argument("--out", default=None, help="directory for the model directories (default: a temporary one)")
    ap.add_argument("--json", default=None, help="write the summary here")
    args = ap.parse_args()
    if args.epochs is None:
        args.epochs = 1 if args.quick else 2
    if args.train_count is None:
        args.train_count = 20000 if args.quick else 0
    if args.attack_count is None:
        args.attack_count = 200 if args.quick else 0
    if args.audit_count is None:
        args.audit_count = 200 if args.quick else 500
    return args


def network_info(dropout):
    """The model.json keys of the torch model: what sleepnet must compute (see the docstring)."""
    return {"hidden_activation": "relu", "output_activation": "relu", "dropout": dropout, "dropout_mode": "inverted"}


def make_model(dropout, init_scale):
    """784-1200-1200-10, bias-free, ReLU everywhere, dropout after the hidden layers."""
    layers = []
    sizes = [784, 1200, 1200, 10]
    for i in range(3):
        linear = torch.nn.Linear(sizes[i], sizes[i + 1], bias=False)
        with torch.no_grad():
            linear.weight.uniform_(-init_scale, init_scale)
        layers += [linear, torch.nn.ReLU()]
        if i < 2:
            layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers)


def train(model, x, y, epochs):
    """SGD lr 0.1, momentum 0.5, batch 100 on the authors' MSE loss 1/(2m) sum (a - y)^2.
    Like the authors' code (and sleepnet's MseLoss) the output delta is (a - y) / m without the
    output ReLU's derivative: the gradient is fed into the pre-activation z of the last layer."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    targets = torch.nn.functional.one_hot(y, 10).to(x.dtype)
    body = model[:-1]  # everything but the output ReLU
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(x.shape[0])
        total = 0.0
        for start in range(0, x.shape[0], 100):
            idx = order[start:start + 100]
            optimizer.zero_grad()
            z = body(x[idx])
            a = torch.relu(z)
            m = idx.shape[0]
            total += 0.5 * float(((a - targets[idx]) ** 2).sum()) / m
            z.backward(gradient=(a - targets[idx]).detach() / m)
            optimizer.step()
        print(f"  epoch {epoch + 1}: mean batch loss {total / ((x.shape[0] + 99) // 100):.4f}", flush=True)
    model.eval()


def torch_accuracy(model, x, y):
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def torch_weights(model):
    """Copies of the Linear weights as (out, in) numpy arrays, in order."""
    return [module.weight.detach().numpy().copy() for _, module in sleepnet.torch.linear_layers(model)]


def cpp_sleep(args, before_dir, out_dir):
    """The `sleep` program on the saved model: same parameter file, seed and (full) training set."""
    report = os.path.join(out_dir, "cpp-sleep.json")
    slept = os.path.join(out_dir, "cpp-slept")
    cmd = [args.sleep_exe, "--model", before_dir, "--out", slept, "--params", args.params, "--dataset", "mnist",
           "--data", args.data, "--seed", str(args.seed), "--no-refit", "--json", report]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"torch_mnist: {' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    with open(report) as f:
        return sleepnet.load_model(slept)[0], json.load(f)


def evaluate(name, weights, data, attack_x, attack_y, network):
    """Accuracy on the whole test set, FGSM median minimal epsilon and APGD (CE + margin)
    robust accuracy at L-inf 0.1 on the attacked images."""
    t0 = time.perf_counter()
    acc = sleepnet.accuracy(weights, data["test_x"], data["test_y"], network=network)
    fgsm = sleepnet.fgsm(weights, attack_x, attack_y, network=network)
    apgd = sleepnet.pgd(weights, attack_x, attack_y, epsilon=0.1, method="apgd", losses=["ce", "margin"],
                        steps=100, restarts=1, seed=1, network=network)
    seconds = time.perf_counter() - t0
    print(f"  {name}: evaluated in {seconds:.1f} s", flush=True)
    return {"accuracy": acc, "attacked_accuracy": sleepnet.accuracy(weights, attack_x, attack_y, network=network),
            "fgsm_median_epsilon": fgsm["median_epsilon"], "fgsm_success_rate": fgsm["success_rate"],
            "apgd_robust_accuracy": apgd["robust_accuracy"], "seconds": seconds}


def audit_options(quick):
    """The audit's defaults for the full run; a short audit for --quick (APGD 20 steps, Square
    100 queries, no L2 part). The L-inf grid keeps 0.3 so that check 2 (robust accuracy
    reaches 0 at the largest budget) still means something: the curves are read off the
    minimal-epsilon runs, so grid points cost nothing."""
    if not quick:
        return {}
    return {"epsilons": [0.05, 0.1, 0.3], "l2": False, "square_queries": 100, "noise_draws": 2,
            "attack": {"steps": 20}}


def audit(slept, control, x, y, args, network):
    """sleepnet.audit of the slept network, the control as surrogate for the transfer check."""
    result = sleepnet.audit(slept, x, y, surrogate=control, seed=args.seed, network=network,
                            **audit_options(args.quick))
    for check in result["checks"]:
        mark = "pass" if check["pass"] else "FAIL"
        print(f"  [{mark}] {check['name']}: {check['detail']}")
    verdict = "gradient masking suspected" if result["masking_suspected"] else "no sign of gradient masking"
    print(f"  audit verdict: {verdict}; {result['failed']} check(s) failed; robust accuracy "
          f"{result['robust_accuracy']}; converged {result['converged']}", flush=True)
    keep = ("clean_accuracy", "checks", "passed", "failed", "masking_suspected", "converged", "robust_accuracy",
            "curves", "options")
    summary = {k: result[k] for k in keep if k in result}
    summary["sleepnet_accuracy"] = sleepnet.accuracy(slept, x, y, network=network)  # the same inputs, for --check
    return summary


def print_table(before, after):
    print(f"\n{'':34s}{'before':>10s}{'after':>10s}")
    rows = [("test accuracy", "accuracy", "{:.4f}"),
            ("accuracy on the attacked images", "attacked_accuracy", "{:.4f}"),
            ("FGSM median minimal eps", "fgsm_median_epsilon", "{:.4f}"),
            ("FGSM success rate", "fgsm_success_rate", "{:.4f}"),
            ("APGD CE+margin robust acc @0.1", "apgd_robust_accuracy", "{:.4f}")]
    for label, key, fmt in rows:
        print(f"{label:34s}{fmt.format(before[key]):>10s}{fmt.format(after[key]):>10s}")


def sanity_failures(summary, quick):
    """The conditions --check asserts; an empty list when all hold."""
    before, after = summary["before"], summary["after"]
    problems = []
    floor = 0.8 if quick else 0.9
    if not before["accuracy"] > floor:
        problems.append(f"accuracy before {before['accuracy']:.4f} <= {floor}")
    if not after["accuracy"] > floor - 0.1:
        problems.append(f"accuracy after sleep {after['accuracy']:.4f} <= {floor - 0.1:.2f}")
    if abs(summary["torch_accuracy_before"] - before["accuracy"]) > 1e-3:
        problems.append(f"torch computes accuracy {summary['torch_accuracy_before']:.4f}, sleepnet "
                        f"{before['accuracy']:.4f}: the model directory does not describe the torch model")
    if sum(summary["sleep"]["weights_changed"]) == 0:
        problems.append("sleep changed no weight (the bit-identity check would be vacuous)")
    for name, r in (("before", before), ("after", after)):
        if not 0.0 < r["fgsm_median_epsilon"] <= 1.0:
            problems.append(f"FGSM median epsilon {name} {r['fgsm_median_epsilon']} not in (0, 1]")
        if not r["apgd_robust_accuracy"] <= r["attacked_accuracy"]:
            problems.append(f"APGD robust accuracy {name} exceeds the clean accuracy of the attacked images")
    audit = summary.get("audit")
    if audit is None or not audit["checks"] or audit["clean_accuracy"] != audit["sleepnet_accuracy"]:
        problems.append("the audit is missing, has no checks, or its clean accuracy differs from sleepnet.accuracy")
    return problems


class Stages:
    """Wall-clock seconds per stage, printed as they end."""

    def __init__(self):
        self.seconds = {}

    def run(self, name, fn, *a, **kw):
        print(f"[{name}]", flush=True)
        t0 = time.perf_counter()
        result = fn(*a, **kw)
        self.seconds[name] = time.perf_counter() - t0
        print(f"[{name}] {self.seconds[name]:.1f} s", flush=True)
        return result


def train_stage(args, data):
    torch.manual_seed(args.seed)
    n = args.train_count or data["train_x"].shape[0]
    model = make_model(args.dropout, args.init_scale)
    x = torch.from_numpy(data["train_x"][:n])
    train(model, x, torch.from_numpy(data["train_y"][:n].astype(np.int64)), args.epochs)
    return model


def compare(torch_slept, cpp_slept):
    same = [bool(np.array_equal(a, b)) for a, b in zip(torch_slept, cpp_slept)]
    same = same if len(torch_slept) == len(cpp_slept) else [False]
    print(f"  torch model slept by sleepnet.torch.sleep_ vs the `sleep` program: per-layer bit-identical {same}")
    return all(same)


def run(args, out):
    stages, network = Stages(), network_info(args.dropout)
    data = stages.run("load", sleepnet.load_dataset, "mnist", args.data, seed=args.seed)
    model = stages.run("train", train_stage, args, data)
    control = torch_weights(model)
    torch_acc = torch_accuracy(model, data["test_x"], data["test_y"])
    print(f"  test accuracy computed by torch: {torch_acc:.4f}")
    before_dir = os.path.join(out, "before")
    stages.run("save", sleepnet.save_model, control, before_dir, network=network)
    # sleep input: the whole training set in both modes (the `sleep` program loads all of it)
    report = stages.run("sleep (torch)", sleepnet.torch.sleep_, model, data["train_x"], args.params, seed=args.seed,
                        network=network)
    print(f"  {report['steps']} steps, spikes per layer {report['spikes']}, "
          f"weights changed {report['weights_changed']}")
    slept = torch_weights(model)
    cpp_slept, cpp_report = stages.run("sleep (C++ program)", cpp_sleep, args, before_dir, out)
    identical = compare(slept, cpp_slept)
    n = args.attack_count or data["test_x"].shape[0]
    ax, ay = data["test_x"][:n], data["test_y"][:n]
    before = stages.run("evaluate before", evaluate, "before", control, data, ax, ay, network)
    after = stages.run("evaluate after", evaluate, "after", slept, data, ax, ay, network)
    print_table(before, after)
    m = args.audit_count or data["test_x"].shape[0]
    audited = stages.run("audit", audit, slept, control, data["test_x"][:m], data["test_y"][:m], args, network)
    return {"mode": "quick" if args.quick else "full", "seed": args.seed, "params": os.path.abspath(args.params),
            "train_count": args.train_count or data["train_x"].shape[0], "epochs": args.epochs,
            "attack_count": int(ax.shape[0]), "audit_count": args.audit_count, "threads": args.threads,
            "network": network,
            "sleep": {k: report[k] for k in ("steps", "spikes", "weights_changed", "seconds")},
            "cpp_sleep_accuracy": [cpp_report["test_accuracy_before"], cpp_report["test_accuracy_after"]],
            "torch_accuracy_before": torch_acc, "bit_identical": identical, "before": before, "after": after,
            "audit": audited,
            "stage_seconds": stages.seconds}


def main():
    args = parse_args()
    labels = os.path.join(args.data, "t10k-labels-idx1-ubyte")
    if not (os.path.exists(labels) or os.path.exists(labels + ".gz")):
        print(f"torch_mnist: no MNIST in {args.data} (scripts/fetch-data.sh fetches it)", file=sys.stderr)
        sys.exit(77 if args.check else 1)  # 77: CTest's SKIP_RETURN_CODE of the --check run
    torch.set_num_threads(args.threads)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        summary = run(args, args.out)
    else:
        with tempfile.TemporaryDirectory() as out:
            summary = run(args, out)
    print("\nstage times: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary["stage_seconds"].items()))
    problems = sanity_failures(summary, args.quick) if args.check else []
    summary["sanity_failures"] = problems
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    if not summary["bit_identical"]:
        sys.exit("torch_mnist: the torch model slept by sleepnet differs from the `sleep` program's output")
    if problems:
        sys.exit("torch_mnist: sanity check failed: " + "; ".join(problems))
    print("bit-identical to the `sleep` program: yes")


if __name__ == "__main__":
    main()
