# Strict command lines (issue 17): negative or overflowing counts, NaN and infinite values
# and zero where it makes no sense are refused by name before any work starts
# (examples/strict_cli.hpp). Each case names the defect an outside audit found.
if(NOT SLEEPNET_BUILD_EXAMPLES)
  return()
endif()
function(strict_cli_case name regex)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 60)
endfunction()
set(_strict_out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/strict)
strict_cli_case(example_strict_train_epochs_negative "--epochs: expected a non-negative whole number, got '-1'"
  $<TARGET_FILE:train> --dataset patches --epochs -1 --out ${_strict_out}/never)
strict_cli_case(example_strict_train_seed_negative "--seed: expected a non-negative whole number, got '-5'"
  $<TARGET_FILE:train> --dataset patches --seed -5 --out ${_strict_out}/never)
strict_cli_case(example_strict_train_hidden_negative "--hidden: expected a positive whole number, got '-1'"
  $<TARGET_FILE:train> --dataset patches --hidden -1 --out ${_strict_out}/never)
strict_cli_case(example_strict_train_hidden_zero "--hidden: expected a positive whole number, got '0'"
  $<TARGET_FILE:train> --dataset patches --hidden 0 --out ${_strict_out}/never)
strict_cli_case(example_strict_train_dropout_nan "--dropout: expected a finite number, got 'nan'"
  $<TARGET_FILE:train> --dataset patches --dropout nan --out ${_strict_out}/never)
strict_cli_case(example_strict_train_epochs_overflow "--epochs: '99999999999999999999' is too large"
  $<TARGET_FILE:train> --dataset patches --epochs 99999999999999999999 --out ${_strict_out}/never)
strict_cli_case(example_strict_sleep_steps_negative "--steps: expected a non-negative whole number, got '-1'"
  $<TARGET_FILE:sleep> --model ${_strict_out}/none --out ${_strict_out}/never --dataset patches --steps -1)
strict_cli_case(example_strict_tune_budget_negative "--budget: expected a non-negative whole number, got '-1'"
  $<TARGET_FILE:tune> --model ${_strict_out}/none --dataset patches --budget -1 --out ${_strict_out}/never.json)
strict_cli_case(example_strict_attack_chunk_zero "--chunk: expected a positive whole number, got '0'"
  $<TARGET_FILE:attack> --model ${_strict_out}/none --dataset patches --attack fgsm --chunk 0)
strict_cli_case(example_strict_attack_overshoot_nan "--overshoot: expected a finite number, got 'nan'"
  $<TARGET_FILE:attack> --model ${_strict_out}/none --dataset patches --attack deepfool --overshoot nan)
strict_cli_case(example_strict_attack_count_negative "--count: expected a non-negative whole number, got '-1'"
  $<TARGET_FILE:attack> --model ${_strict_out}/none --dataset patches --attack fgsm --count -1)
# reproduce --merge reads the seed runs' results.json: a plan seed that is not a
# non-negative integer is refused by name (a float such as 3e38 was converted out of range)
foreach(_case huge=3e38 negative=-1 fraction=1.5)
  string(REPLACE "=" ";" _case ${_case})
  list(GET _case 0 _id)
  list(GET _case 1 _bad)
  file(WRITE ${_strict_out}/merge-seed-${_id}/seed-1/results.json
    "{\"plan\": {\"seed\": ${_bad}}, \"data\": {}, \"table1\": {}, \"checks\": {}, \"table1_notes\": [], \"curves\": {}, \"networks\": {}}\n")
  strict_cli_case(example_strict_reproduce_merge_seed_${_id}
    "seed-1\\): results.json plan: key 'seed' must be a non-negative integer \\(got "
    $<TARGET_FILE:reproduce> --dataset patches --quick --seed 1 --seeds 1 --merge --no-plots
    --out ${_strict_out}/merge-seed-${_id})
endforeach()
