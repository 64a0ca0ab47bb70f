#pragma once
// sleepnet: everything in one include. Prefer the individual headers in larger projects.

#include "callbacks/early_stopping.hpp"
#include "callbacks/progress_bar.hpp"
#include "callbacks/spike_budget.hpp"

#include "core/atomic_file.hpp"
#include "core/callbacks.hpp"
#include "core/check.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"

#include "nn/activation.hpp"
#include "nn/dense_network.hpp"
#include "nn/io.hpp"
#include "nn/loss.hpp"
#include "nn/sgd.hpp"
#include "nn/train.hpp"

#include "data/dataset.hpp"
#include "data/features.hpp"
#include "data/idx.hpp"
#include "data/load.hpp"
#include "data/npy.hpp"
#include "data/patches.hpp"

#include "snn/integrate_fire.hpp"
#include "snn/normalize.hpp"
#include "snn/refit.hpp"
#include "snn/sleep.hpp"
#include "snn/spike_source.hpp"
#include "snn/spiking_inference.hpp"
#include "snn/stdp.hpp"

#include "attacks/audit.hpp"
#include "attacks/boundary.hpp"
#include "attacks/common.hpp"
#include "attacks/deepfool.hpp"
#include "attacks/ensemble.hpp"
#include "attacks/fgsm.hpp"
#include "attacks/fmn.hpp"
#include "attacks/jsma.hpp"
#include "attacks/logit_losses.hpp"
#include "attacks/pgd.hpp"
#include "attacks/square.hpp"

#include "distort/blur.hpp"
#include "distort/curves.hpp"
#include "distort/noise.hpp"

#include "defenses/adversarial.hpp"
#include "defenses/distillation.hpp"
#include "defenses/finetune.hpp"

#include "analysis/activations.hpp"
#include "analysis/correlation.hpp"
#include "analysis/selectivity.hpp"
#include "analysis/weights.hpp"

#include "tune/objective.hpp"
#include "tune/search.hpp"
#include "tune/space.hpp"
