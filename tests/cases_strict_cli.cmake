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

# Strict outputs (examples/outputs.hpp): every output is checked before any work, two
# outputs naming one path are refused, and a refused run writes nothing. "Unwritable" is a
# path under a regular file, which refuses root too (CI runs as root).
set(_a_file ${_strict_out}/a-file)
file(WRITE ${_a_file} "a regular file, not a directory\n")
file(WRITE ${_strict_out}/params.json "{\"preset\": \"patches\"}\n")
set(_refuse ${CMAKE_CURRENT_SOURCE_DIR}/expect_refusal.sh)
set(_patches_model ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control)
# strict_output_case(NAME REGEX [--absent PATH]... -- COMMAND...): expect_refusal.sh, 20 s
function(strict_output_case name regex)
  add_test(NAME ${name} COMMAND ${_refuse} "${regex}" ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT 20)
endfunction()
# an unwritable --out is refused before training (it trained first: 10^8 epochs hit the timeout)
strict_output_case(example_strict_train_out_unwritable "--out '[^']*a-file/model' cannot be written: '[^']*a-file' is not a directory"
  -- $<TARGET_FILE:train> --dataset patches --epochs 100000000 --out ${_a_file}/model)
# an unwritable --json is refused before training, and no model is written (it was, then --json failed)
strict_output_case(example_strict_train_json_unwritable "--json '[^']*a-file/train.json' cannot be written"
  --absent ${_strict_out}/train-json/model
  -- $<TARGET_FILE:train> --dataset patches --epochs 100000000 --out ${_strict_out}/train-json/model
     --json ${_a_file}/train.json)
strict_output_case(example_strict_train_out_is_json "--out '[^']*same' and --json '[^']*same' are the same path"
  --absent ${_strict_out}/same
  -- $<TARGET_FILE:train> --dataset patches --epochs 100000000 --out ${_strict_out}/same --json ${_strict_out}/same)
strict_output_case(example_strict_sleep_out_unwritable "--out '[^']*a-file/slept' cannot be written"
  -- $<TARGET_FILE:sleep> --model ${_patches_model} --preset patches --dataset patches --steps 100000000
     --out ${_a_file}/slept)
strict_output_case(example_strict_sleep_json_unwritable "--json '[^']*a-file/sleep.json' cannot be written"
  --absent ${_strict_out}/sleep-json/slept
  -- $<TARGET_FILE:sleep> --model ${_patches_model} --preset patches --dataset patches --steps 100000000
     --out ${_strict_out}/sleep-json/slept --json ${_a_file}/sleep.json)
strict_output_case(example_strict_sleep_json_is_params "--json '[^']*params.json' and --params '[^']*params.json' are the same path"
  -- $<TARGET_FILE:sleep> --model ${_patches_model} --dataset patches --steps 100000000
     --out ${_strict_out}/sleep-params/slept --params ${_strict_out}/params.json --json ${_strict_out}/params.json)
set_tests_properties(example_strict_sleep_out_unwritable example_strict_sleep_json_unwritable
  example_strict_sleep_json_is_params PROPERTIES FIXTURES_REQUIRED ex_patches_model)
# tune --out equal to --log overwrote the log with the parameters; also as ./x and x
set(_tune_small --model ${_patches_model} --dataset patches --seed 3 --budget 100000 --population 4 --validation 4
  --objective-count 4 --max-drop 1)
strict_output_case(example_strict_tune_out_is_log "--out '[^']*tune-same.jsonl' and --log '[^']*tune-same.jsonl' are the same path"
  --absent ${_strict_out}/tune-same.jsonl
  -- $<TARGET_FILE:tune> ${_tune_small} --out ${_strict_out}/tune-same.jsonl --log ${_strict_out}/tune-same.jsonl)
strict_output_case(example_strict_tune_out_is_log_spelled "--out './tune-spelled.jsonl' and --log 'tune-spelled.jsonl' are the same path"
  --absent ${_strict_out}/tune-spelled.jsonl
  -- $<TARGET_FILE:tune> ${_tune_small} --out ./tune-spelled.jsonl --log tune-spelled.jsonl)
set_tests_properties(example_strict_tune_out_is_log_spelled PROPERTIES WORKING_DIRECTORY ${_strict_out})
strict_output_case(example_strict_tune_out_unwritable "--out '[^']*a-file/params.json' cannot be written"
  -- $<TARGET_FILE:tune> ${_tune_small} --out ${_a_file}/params.json)
strict_output_case(example_strict_tune_log_unwritable "--log '[^']*a-file/log.jsonl' cannot be written"
  --absent ${_strict_out}/tune-log-params.json
  -- $<TARGET_FILE:tune> ${_tune_small} --out ${_strict_out}/tune-log-params.json --log ${_a_file}/log.jsonl)
set_tests_properties(example_strict_tune_out_is_log example_strict_tune_out_is_log_spelled
  example_strict_tune_out_unwritable example_strict_tune_log_unwritable PROPERTIES FIXTURES_REQUIRED ex_patches_model)
strict_output_case(example_strict_attack_json_unwritable "--json '[^']*a-file/attack.json' cannot be written"
  -- $<TARGET_FILE:attack> --model ${_patches_model} --dataset patches --attack fgsm --json ${_a_file}/attack.json)
strict_output_case(example_strict_audit_json_unwritable "--json '[^']*a-file/audit.json' cannot be written"
  --absent ${_strict_out}/audit-plots
  -- $<TARGET_FILE:audit> --model ${_patches_model} --dataset patches --json ${_a_file}/audit.json
     --plot ${_strict_out}/audit-plots)
strict_output_case(example_strict_evaluate_json_unwritable "--json '[^']*a-file/evaluate.json' cannot be written"
  --absent ${_strict_out}/evaluate-pred.npy
  -- $<TARGET_FILE:evaluate> --model ${_patches_model} --dataset patches --json ${_a_file}/evaluate.json
     --predictions ${_strict_out}/evaluate-pred.npy)
set_tests_properties(example_strict_attack_json_unwritable example_strict_audit_json_unwritable
  example_strict_evaluate_json_unwritable PROPERTIES FIXTURES_REQUIRED ex_patches_model)
# reproduce and continual write several files into --out: an unwritable one is refused first
strict_output_case(example_strict_reproduce_out_unwritable "--out '[^']*a-file/repro' cannot be written"
  -- $<TARGET_FILE:reproduce> --dataset patches --quick --no-plots --out ${_a_file}/repro)
strict_output_case(example_strict_reproduce_seeds_out_unwritable "--out '[^']*a-file/repro' cannot be written"
  -- $<TARGET_FILE:reproduce> --dataset patches --quick --seeds 2 --no-plots --out ${_a_file}/repro)
strict_output_case(example_strict_continual_mnist_out_unwritable "--out '[^']*a-file/continual' cannot be written"
  -- $<TARGET_FILE:continual> --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist --epochs 1000
     --out ${_a_file}/continual)
# continual --tune writes the winner and a log besides --out: one path for both is refused
strict_output_case(example_strict_continual_mnist_tune_out_is_log "--tune-log '[^']*cont-same.json' and --tune-out '[^']*cont-same.json' are the same path"
  --absent ${_strict_out}/cont-tune
  -- $<TARGET_FILE:continual> --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist --epochs 1000 --tune 2
     --out ${_strict_out}/cont-tune --tune-log ${_strict_out}/cont-same.json --tune-out ${_strict_out}/cont-same.json)

# Parameter files: errors found when the parameters meet the network name the file, and {}
# (or a file without thresholds) on a deeper network than the defaults' says the thresholds
# are missing (it said "3 thresholds given", naming no file)
add_test(NAME example_strict_train_patches_deep
  COMMAND $<TARGET_FILE:train> --dataset patches --hidden 20 20 20 --epochs 5 --seed 3 --out ${_strict_out}/deep)
set_tests_properties(example_strict_train_patches_deep PROPERTIES FIXTURES_SETUP strict_deep_model)
file(WRITE ${_strict_out}/params-empty.json "{}\n")
file(WRITE ${_strict_out}/params-steps.json "{\"steps\": 100}\n")
file(WRITE ${_strict_out}/params-two.json "{\"thresholds\": [1, 2]}\n")
strict_cli_case(example_strict_sleep_params_empty
  "params-empty.json: sleep parameters: thresholds missing: the network has 4 simulated layers"
  $<TARGET_FILE:sleep> --model ${_strict_out}/deep --params ${_strict_out}/params-empty.json --dataset patches
  --out ${_strict_out}/deep-slept)
strict_cli_case(example_strict_sleep_params_no_thresholds
  "params-steps.json: sleep parameters: thresholds missing: the network has 4 simulated layers"
  $<TARGET_FILE:sleep> --model ${_strict_out}/deep --params ${_strict_out}/params-steps.json --dataset patches
  --out ${_strict_out}/deep-slept)
strict_cli_case(example_strict_sleep_params_two_thresholds
  "params-two.json: sleep parameters: 2 thresholds given, the network has 4 simulated layers"
  $<TARGET_FILE:sleep> --model ${_strict_out}/deep --params ${_strict_out}/params-two.json --dataset patches
  --out ${_strict_out}/deep-slept)
set_tests_properties(example_strict_sleep_params_empty example_strict_sleep_params_no_thresholds
  example_strict_sleep_params_two_thresholds PROPERTIES FIXTURES_REQUIRED strict_deep_model)

# a --json inside the model directory --out is still written (the staged JSON must not be
# staged inside the directory the model replaces)
add_test(NAME example_strict_train_json_inside_out
  COMMAND bash -c "rm -rf \"$1\" && \"$0\" --dataset patches --epochs 1 --out \"$1\" --json \"$1/train.json\""
          $<TARGET_FILE:train> ${_strict_out}/inside)
add_test(NAME example_strict_train_json_inside_out_written COMMAND ${CMAKE_COMMAND} -E cat ${_strict_out}/inside/train.json)
set_tests_properties(example_strict_train_json_inside_out_written PROPERTIES DEPENDS example_strict_train_json_inside_out
  PASS_REGULAR_EXPRESSION "\"test_accuracy\"")
