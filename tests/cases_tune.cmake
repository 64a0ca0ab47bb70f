# End-to-end CTest cases of the tune example on the Patches control of cases_examples.cmake:
# a small genetic search writes parameters that `sleep --params` accepts, and a second run
# continues the same log without evaluating anything again.
if(NOT SLEEPNET_BUILD_EXAMPLES)
  return()
endif()
set(_tune_out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/tune)
file(REMOVE_RECURSE ${_tune_out})
file(MAKE_DIRECTORY ${_tune_out})
add_test(NAME example_tune_patches
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --seed 3 --budget 8 --population 4 --validation 4 --objective-count 4 --max-drop 1
          --out ${_tune_out}/params.json --log ${_tune_out}/log.jsonl --restart)
add_test(NAME example_tune_patches_resume
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --seed 3 --budget 8 --population 4 --validation 4 --objective-count 4 --max-drop 1
          --out ${_tune_out}/params2.json --log ${_tune_out}/log.jsonl)
set_tests_properties(example_tune_patches_resume PROPERTIES DEPENDS example_tune_patches
  PASS_REGULAR_EXPRESSION "8 candidates \\(8 from the log\\)")
add_test(NAME example_tune_patches_sleep
  COMMAND $<TARGET_FILE:sleep> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control
          --out ${_tune_out}/slept --params ${_tune_out}/params.json --dataset patches --seed 1)
set_tests_properties(example_tune_patches_sleep PROPERTIES DEPENDS example_tune_patches)
# the optional genes of the search space (decay, STDP rule, normalization chain): the
# search runs with them, says so in the provenance, and a decay range outside (0, 1] is
# refused by name
add_test(NAME example_tune_patches_wide
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --seed 3 --budget 4 --population 4 --validation 4 --objective-count 4 --max-drop 1
          --decay-range 0.9 1 --rules authors paper --normalizations authors textbook --dec-range 1e-4 1e-2
          --out ${_tune_out}/params_wide.json --log ${_tune_out}/log_wide.jsonl --restart)
set_tests_properties(example_tune_patches_wide PROPERTIES PASS_REGULAR_EXPRESSION "tune: 4 candidates \\(0 from the log\\)")
add_test(NAME example_tune_patches_wide_provenance
  COMMAND ${CMAKE_COMMAND} -E cat ${_tune_out}/params_wide.json)
set_tests_properties(example_tune_patches_wide_provenance PROPERTIES DEPENDS example_tune_patches_wide
  PASS_REGULAR_EXPRESSION "--dec-range 0.0001 0.01 --decay-range 0.9 1 --rules authors paper --normalizations authors textbook")
add_test(NAME example_tune_patches_bad_decay
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --budget 4 --validation 4 --decay-range 0.5 1.2 --out ${_tune_out}/params_bad.json)
set_tests_properties(example_tune_patches_bad_decay PROPERTIES
  PASS_REGULAR_EXPRESSION "range 'decay' must lie in \\(0, 1\\], got \\[0.500000, 1.200000\\]")
# --initial seeds the first generation with parameter files; a file for another network is
# refused by name
add_test(NAME example_tune_patches_bad_initial
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --budget 4 --validation 4 --initial ${PROJECT_SOURCE_DIR}/examples/params/mnist.json
          --out ${_tune_out}/params_bad.json)
set_tests_properties(example_tune_patches_bad_initial PROPERTIES
  PASS_REGULAR_EXPRESSION "--initial [^ ]*mnist.json: 3 thresholds for 1 simulated layers")
# refit after sleep (snn/refit.hpp): the one-layer Patches network has nothing above its
# slept layer to refit, which both programs say by name before doing anything; and
# --no-refit cannot be combined with refit settings
add_test(NAME example_tune_patches_refit_one_layer
  COMMAND $<TARGET_FILE:tune> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control --dataset patches
          --budget 4 --population 4 --validation 2 --objective-count 2 --refit --out ${_tune_out}/params_refit.json)
set_tests_properties(example_tune_patches_refit_one_layer PROPERTIES
  PASS_REGULAR_EXPRESSION "refit options: frozen_layers 1 leaves no layer of the 1-layer network to train")
add_test(NAME example_sleep_patches_refit_one_layer
  COMMAND $<TARGET_FILE:sleep> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control
          --out ${_tune_out}/slept_refit --preset patches --dataset patches --refit)
set_tests_properties(example_sleep_patches_refit_one_layer PROPERTIES
  PASS_REGULAR_EXPRESSION "refit options: frozen_layers 1 leaves no layer of the 1-layer network to train")
add_test(NAME example_sleep_refit_contradiction
  COMMAND $<TARGET_FILE:sleep> --model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control
          --out ${_tune_out}/slept_refit --preset patches --dataset patches --no-refit --refit-epochs 3)
set_tests_properties(example_sleep_refit_contradiction PROPERTIES
  PASS_REGULAR_EXPRESSION "--no-refit contradicts")
set_tests_properties(example_tune_patches example_tune_patches_resume example_tune_patches_sleep
  example_tune_patches_wide example_tune_patches_bad_decay example_tune_patches_bad_initial
  example_tune_patches_refit_one_layer example_sleep_patches_refit_one_layer example_sleep_refit_contradiction
  PROPERTIES FIXTURES_REQUIRED ex_patches_model)

# Release, MNIST: the shipped parameter files on the control that the MNIST example case
# trains (the quickstart recipe; bit-identical to the one they were tuned for). For each:
# sleep with it (--seed 1), then the test accuracy is >= a floor, accuracy under Gaussian
# noise of std 0.5 and 0.7 is at or above the control's, and, where a factor is given, the
# FGSM median minimal epsilon (grid, network loss, all 10,000 test images) is >= that
# factor times the control's (docs/tune.md):
# - mnist.json (tuned for noise at almost no accuracy cost): accuracy >= 0.93;
# - mnist-robust.json (search D): accuracy >= 0.90, FGSM >= 1.4x (measured 1.48x);
# - mnist-refit.json (sleep, then refit of layers 2-3; docs/sleep.md), the issue's check:
#   accuracy >= 0.90, FGSM >= 2x (measured 0.9513, 2.18x). Refit trains through OpenBLAS,
#   so the sleep runs with the thread count of the measurement. (Under APGD it is less
#   robust than the control: the FGSM gain is masking, docs/robustness.md.)
# Where an APGD gain is given, the robust accuracy under APGD (L-inf, CE + margin, 100
# steps) at eps 0.1 on the first 1,000 test images is >= the control's + that gain:
# - mnist-pgd.json (tuned with the APGD objective): accuracy >= 0.93, APGD +0.05
#   (measured 0.9384, 0.417 against 0.334);
# - mnist-pgd-refit.json (the same with refit): accuracy >= 0.94, APGD +0.03 (measured
#   0.9475, 0.377 against 0.334).
if(CMAKE_BUILD_TYPE STREQUAL "Release")
  set(_m ${CMAKE_CURRENT_BINARY_DIR}/examples-out/mnist)
  add_test(NAME example_noise_mnist_control
    COMMAND $<TARGET_FILE:attack> --model ${_m}/control --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
            --attack noise --json ${_m}/noise_control.json)
  add_test(NAME example_fgsm_mnist_control
    COMMAND $<TARGET_FILE:attack> --model ${_m}/control --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
            --attack fgsm --json ${_m}/fgsm_control.json)
  # fixtures, so that `ctest -R tune` runs the control's curves the checks compare with
  set_tests_properties(example_noise_mnist_control PROPERTIES FIXTURES_REQUIRED ex_mnist_model
                       FIXTURES_SETUP ex_mnist_noise_control)
  set_tests_properties(example_fgsm_mnist_control PROPERTIES FIXTURES_REQUIRED ex_mnist_model
                       FIXTURES_SETUP ex_mnist_fgsm_control)
  add_test(NAME example_apgd_mnist_control
    COMMAND $<TARGET_FILE:attack> --model ${_m}/control --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
            --attack pgd --eps 0.1 --count 1000 --json ${_m}/apgd_control.json)
  set_tests_properties(example_apgd_mnist_control PROPERTIES FIXTURES_REQUIRED ex_mnist_model
                       FIXTURES_SETUP ex_mnist_apgd_control)

  function(_shipped_mnist_params net file min_accuracy fgsm_factor)
    set(apgd_gain "${ARGN}")
    set(_fx ex_mnist_${net})
    add_test(NAME example_sleep_mnist_${net}
      COMMAND $<TARGET_FILE:sleep> --model ${_m}/control --out ${_m}/${net}
              --params ${PROJECT_SOURCE_DIR}/examples/params/${file}
              --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist --seed 1 --json ${_m}/sleep_${net}.json)
    set_tests_properties(example_sleep_mnist_${net} PROPERTIES FIXTURES_REQUIRED ex_mnist_model
                         FIXTURES_SETUP ${_fx} ENVIRONMENT "OPENBLAS_NUM_THREADS=2" RUN_SERIAL TRUE)
    json_check(example_sleep_mnist_${net}_accuracy
      -DFILE=${_m}/sleep_${net}.json -DKEY=test_accuracy_after -DOP=GE -DVALUE=${min_accuracy})
    set_tests_properties(example_sleep_mnist_${net}_accuracy PROPERTIES FIXTURES_REQUIRED ${_fx})
    add_test(NAME example_noise_mnist_${net}
      COMMAND $<TARGET_FILE:attack> --model ${_m}/${net} --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
              --attack noise --json ${_m}/noise_${net}.json)
    set_tests_properties(example_noise_mnist_${net} PROPERTIES FIXTURES_REQUIRED ${_fx})
    foreach(_lvl 3 4)
      json_check(example_noise_mnist_${net}_check_${_lvl}
        -DFILE=${_m}/noise_${net}.json -DKEY=curve.${_lvl}.accuracy -DOP=GE
        -DFILE2=${_m}/noise_control.json -DKEY2=curve.${_lvl}.accuracy)
      set_tests_properties(example_noise_mnist_${net}_check_${_lvl} PROPERTIES
        DEPENDS example_noise_mnist_${net} FIXTURES_REQUIRED "ex_mnist_noise_control;${_fx}")
    endforeach()
    if(NOT fgsm_factor STREQUAL "")
      add_test(NAME example_fgsm_mnist_${net}
        COMMAND $<TARGET_FILE:attack> --model ${_m}/${net} --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
                --attack fgsm --json ${_m}/fgsm_${net}.json)
      set_tests_properties(example_fgsm_mnist_${net} PROPERTIES FIXTURES_REQUIRED ${_fx})
      json_check(example_fgsm_mnist_${net}_check
        -DFILE=${_m}/fgsm_${net}.json -DKEY=score -DOP=GE -DFACTOR=${fgsm_factor}
        -DFILE2=${_m}/fgsm_control.json -DKEY2=score)
      set_tests_properties(example_fgsm_mnist_${net}_check PROPERTIES DEPENDS example_fgsm_mnist_${net}
                           FIXTURES_REQUIRED "ex_mnist_fgsm_control;${_fx}")
    endif()
    if(NOT apgd_gain STREQUAL "")
      add_test(NAME example_apgd_mnist_${net}
        COMMAND $<TARGET_FILE:attack> --model ${_m}/${net} --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist
                --attack pgd --eps 0.1 --count 1000 --json ${_m}/apgd_${net}.json)
      set_tests_properties(example_apgd_mnist_${net} PROPERTIES FIXTURES_REQUIRED ${_fx})
      json_check(example_apgd_mnist_${net}_check
        -DFILE=${_m}/apgd_${net}.json -DKEY=curve.0.robust_accuracy -DOP=GE -DOFFSET=${apgd_gain}
        -DFILE2=${_m}/apgd_control.json -DKEY2=curve.0.robust_accuracy)
      set_tests_properties(example_apgd_mnist_${net}_check PROPERTIES DEPENDS example_apgd_mnist_${net}
                           FIXTURES_REQUIRED "ex_mnist_apgd_control;${_fx}")
    endif()
  endfunction()
  _shipped_mnist_params(tuned mnist.json 0.93 "")
  _shipped_mnist_params(robust mnist-robust.json 0.90 1.4)
  _shipped_mnist_params(refit mnist-refit.json 0.90 2.0)
  _shipped_mnist_params(pgd mnist-pgd.json 0.93 "" 0.05)
  _shipped_mnist_params(pgd_refit mnist-pgd-refit.json 0.94 "" 0.03)
endif()
