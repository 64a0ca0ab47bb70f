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
set_tests_properties(example_tune_patches example_tune_patches_resume example_tune_patches_sleep
  PROPERTIES FIXTURES_REQUIRED ex_patches_model)
