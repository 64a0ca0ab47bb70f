# CTest cases of the continual example (class-incremental MNIST with sleep, docs/continual.md).
# - Every build: option refusals (no data needed: the options are checked before loading).
# - Release builds with data/mnist: a small run (the release's 784-1200-1200-10 network,
#   2 tasks of 5 digits, 1000 training images each from the first 6000, batch 10, 2 trials,
#   1000 test images; about a minute) and checks of its results.json: the matrices' shapes,
#   sequential training forgets task 0, sleep keeps part of it, joint training beats
#   sequential training, the sleep lengths follow --first-steps / --more-steps.
if(NOT SLEEPNET_BUILD_EXAMPLES)
  return()
endif()
set(_cont_out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/continual-mnist)
set(_cont_json ${_cont_out}/results.json)
set(_check_script ${CMAKE_CURRENT_SOURCE_DIR}/check_json.cmake)

# refusals, each naming the option or the value
foreach(_case "trials_zero;--trials;0;--trials: expected a positive whole number, got '0'"
              "per_task_negative;--per-task;-5;--per-task: expected a positive whole number, got '-5'"
              "hidden_zero;--hidden;0;--hidden: expected a positive whole number, got '0'"
              "rehearsal_range;--rehearsal;2;--rehearsal: Value 2 not in range"
              "lr_zero;--lr;0;--lr: must be > 0, got '0'"
              "method_unknown;--methods;dreaming;unknown continual method 'dreaming'"
              "keep_layers;--keep-layers;3;sleep.keep_layers has layer 3, the network has 3")
  list(GET _case 0 _name)
  list(GET _case 1 _opt)
  list(GET _case 2 _val)
  list(GET _case 3 _msg)
  add_test(NAME example_continual_refuse_${_name}
    COMMAND $<TARGET_FILE:continual> --dataset mnist --out ${_cont_out}-refused ${_opt} ${_val})
  set_tests_properties(example_continual_refuse_${_name} PROPERTIES PASS_REGULAR_EXPRESSION "${_msg}")
endforeach()
add_test(NAME example_continual_refuse_tune_for
  COMMAND $<TARGET_FILE:continual> --dataset mnist --out ${_cont_out}-refused --tune 4 --tune-for sequential)
set_tests_properties(example_continual_refuse_tune_for PROPERTIES
  PASS_REGULAR_EXPRESSION "--tune-for must be a method that sleeps \\(sleep or rehearsal\\+sleep\\), got 'sequential'")
add_test(NAME example_continual_refuse_rehearsal_rule
  COMMAND $<TARGET_FILE:continual> --dataset mnist --out ${_cont_out}-refused --rehearsal-rule pooled)
set_tests_properties(example_continual_refuse_rehearsal_rule PROPERTIES
  PASS_REGULAR_EXPRESSION "unknown rehearsal rule 'pooled'")
add_test(NAME example_continual_refuse_method_twice
  COMMAND $<TARGET_FILE:continual> --dataset mnist --out ${_cont_out}-refused --methods sleep joint sleep)
set_tests_properties(example_continual_refuse_method_twice PROPERTIES
  PASS_REGULAR_EXPRESSION "--methods names 'sleep' twice")

if(NOT CMAKE_BUILD_TYPE STREQUAL "Release")
  return()
endif()
add_test(NAME example_continual_mnist
  COMMAND $<TARGET_FILE:continual> --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist --out ${_cont_out} --trials 2
          --seed 1 --classes-per-task 5 --train-count 6000 --per-task 1000 --batch 10 --epochs 2
          --first-steps 500 --more-steps 100 --test-count 1000 --no-plots)
set_tests_properties(example_continual_mnist PROPERTIES FIXTURES_SETUP ex_continual_mnist TIMEOUT 900
  ENVIRONMENT "OPENBLAS_NUM_THREADS=2" RUN_SERIAL TRUE)
# json_check(NAME [WILL_FAIL] -D...): check_json.cmake on the run's results.json
function(continual_check name)
  set(_will_fail FALSE)
  if(ARGV1 STREQUAL "WILL_FAIL")
    set(_will_fail TRUE)
    list(REMOVE_AT ARGN 0)
  endif()
  add_test(NAME example_continual_mnist_${name}
    COMMAND ${CMAKE_COMMAND} -DFILE=${_cont_json} ${ARGN} -P ${_check_script})
  set_tests_properties(example_continual_mnist_${name} PROPERTIES FIXTURES_REQUIRED ex_continual_mnist
    WILL_FAIL ${_will_fail})
endfunction()
# shapes: 2 trials; 2 x 2 matrices (sequential), 1 x 2 (joint): the last entries exist,
# one past them does not (check_json fails on a missing key)
continual_check(trials -DKEY=summary.sequential.final_average_accuracy.n -DOP=EQ -DVALUE=2)
continual_check(no_third_trial WILL_FAIL -DKEY=trials.2.trial -DOP=GE -DVALUE=0)
continual_check(matrix_shape -DKEY=trials.1.methods.sequential.accuracy.1.1 -DOP=GE -DVALUE=0)
continual_check(matrix_no_third_row WILL_FAIL -DKEY=trials.1.methods.sequential.accuracy.2.0 -DOP=GE -DVALUE=0)
continual_check(matrix_no_third_column WILL_FAIL -DKEY=trials.1.methods.sequential.accuracy.1.2 -DOP=GE -DVALUE=0)
continual_check(joint_shape -DKEY=trials.0.methods.joint.accuracy.0.1 -DOP=GE -DVALUE=0)
continual_check(joint_one_row WILL_FAIL -DKEY=trials.0.methods.joint.accuracy.1.0 -DOP=GE -DVALUE=0)
# forgetting: sequential training's accuracy on task 0 after task 1 is far below its
# accuracy after task 0; sleep keeps at least 10 points of task 0 more than sequential
foreach(_t 0 1)
  continual_check(forgets_${_t} -DKEY=trials.${_t}.methods.sequential.accuracy.0.0 -DOP=GT
    -DFILE2=${_cont_json} -DKEY2=trials.${_t}.methods.sequential.accuracy.1.0 -DOFFSET=0.5)
  continual_check(sleep_keeps_${_t} -DKEY=trials.${_t}.methods.sleep.accuracy.1.0 -DOP=GE
    -DFILE2=${_cont_json} -DKEY2=trials.${_t}.methods.sequential.accuracy.1.0 -DOFFSET=0.1)
endforeach()
continual_check(joint_beats_sequential -DKEY=summary.joint.final_total_accuracy.mean -DOP=GT
  -DFILE2=${_cont_json} -DKEY2=summary.sequential.final_total_accuracy.mean -DOFFSET=0.2)
# the sleep after task i lasts --first-steps + i * --more-steps steps
continual_check(sleep_steps_0 -DKEY=trials.0.methods.sleep.sleeps.0.steps -DOP=EQ -DVALUE=500)
continual_check(sleep_steps_1 -DKEY=trials.0.methods.rehearsal+sleep.sleeps.1.steps -DOP=EQ -DVALUE=600)
# the summary's after_task rows name the (1-based) task after which they were measured
continual_check(after_task_task -DKEY=summary.sleep.after_task.1.task -DOP=EQ -DVALUE=2)

# continual --tune (examples/continual_tune.hpp) on a tiny problem (784-100-100-10, learning
# rate 0.5, 2 tasks of 5 digits, 500 training images each from the first 3,200 of 4,000, the
# last 800 held out for validation; seconds): the search runs and writes its winner; a second run resumes
# the whole search from --tune-log and writes the same file and the same trial; `continual
# --params FILE --params-steps` with that file repeats the tuned trial exactly.
set(_tune_dir ${CMAKE_CURRENT_BINARY_DIR}/examples-out/continual-tune)
set(_tune_small --dataset mnist --data ${SLEEPNET_DATA_DIR}/mnist --trials 1 --seed 1 --classes-per-task 5
    --train-count 4000 --per-task 500 --batch 10 --epochs 2 --lr 0.5 --hidden 100 100 --first-steps 200 --more-steps 40
    --test-count 500 --methods sleep --no-plots)
add_test(NAME example_continual_tune_mnist
  COMMAND $<TARGET_FILE:continual> ${_tune_small} --out ${_tune_dir}/a --tune 6 --population 4 --validation 800
          --steps-range 100 400 --tune-log ${_tune_dir}/log.jsonl --restart)
set_tests_properties(example_continual_tune_mnist PROPERTIES FIXTURES_SETUP ex_continual_tune TIMEOUT 300
  PASS_REGULAR_EXPRESSION "tune: 6 candidates \\(0 from the log\\)")
add_test(NAME example_continual_tune_mnist_resume
  COMMAND $<TARGET_FILE:continual> ${_tune_small} --out ${_tune_dir}/b --tune 6 --population 4 --validation 800
          --steps-range 100 400 --tune-log ${_tune_dir}/log.jsonl)
set_tests_properties(example_continual_tune_mnist_resume PROPERTIES FIXTURES_REQUIRED ex_continual_tune
  FIXTURES_SETUP ex_continual_tune_resume PASS_REGULAR_EXPRESSION "tune: 6 candidates \\(6 from the log\\)")
add_test(NAME example_continual_tune_mnist_resume_same
  COMMAND ${CMAKE_COMMAND} -DA=${_tune_dir}/a -DB=${_tune_dir}/b "-DFILES=tuned_params.json|matrix_sleep.dat"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/compare_outputs.cmake)
set_tests_properties(example_continual_tune_mnist_resume_same PROPERTIES FIXTURES_REQUIRED ex_continual_tune_resume)
add_test(NAME example_continual_tune_mnist_params
  COMMAND $<TARGET_FILE:continual> ${_tune_small} --out ${_tune_dir}/c --params ${_tune_dir}/a/tuned_params.json
          --params-steps)
set_tests_properties(example_continual_tune_mnist_params PROPERTIES FIXTURES_REQUIRED ex_continual_tune
  FIXTURES_SETUP ex_continual_tune_params)
add_test(NAME example_continual_tune_mnist_params_same
  COMMAND ${CMAKE_COMMAND} -DA=${_tune_dir}/a -DB=${_tune_dir}/c "-DFILES=matrix_sleep.dat"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/compare_outputs.cmake)
set_tests_properties(example_continual_tune_mnist_params_same PROPERTIES FIXTURES_REQUIRED ex_continual_tune_params)
# ... and its first sleep lasts the file's steps (the winner's steps gene), not --first-steps
add_test(NAME example_continual_tune_mnist_params_steps
  COMMAND ${CMAKE_COMMAND} -DFILE=${_tune_dir}/c/results.json -DKEY=trials.0.methods.sleep.sleeps.0.steps -DOP=EQ
          -DFILE2=${_tune_dir}/a/tuned_params.json -DKEY2=steps -P ${CMAKE_CURRENT_SOURCE_DIR}/check_json.cmake)
set_tests_properties(example_continual_tune_mnist_params_steps PROPERTIES FIXTURES_REQUIRED ex_continual_tune_params)
