# Fault injection (issue 17; tests/fault_injection_check.sh): tune, reproduce and continual
# killed with SIGKILL at a fixed series of moments leave only complete outputs, and tune
# resumed from its --log ends with the uninterrupted run's log and parameters.
if(NOT SLEEPNET_BUILD_EXAMPLES)
  return()
endif()
find_program(SLEEPNET_BASH bash)
find_program(SLEEPNET_FAULT_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT SLEEPNET_BASH OR NOT SLEEPNET_FAULT_PYTHON)
  message(STATUS "fault injection tests: skipped (no bash or /usr/bin/python3)")
  return()
endif()
set(_fault_script ${CMAKE_CURRENT_SOURCE_DIR}/fault_injection_check.sh)
set(_fault_out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/fault)
add_test(NAME example_fault_injection_tune_reproduce
  COMMAND ${SLEEPNET_BASH} ${_fault_script} "tune reproduce" $<TARGET_FILE:train> $<TARGET_FILE:tune>
          $<TARGET_FILE:reproduce> $<TARGET_FILE:continual> ${_fault_out}/patches ${SLEEPNET_FAULT_PYTHON})
add_test(NAME example_fault_injection_continual_mnist
  COMMAND ${SLEEPNET_BASH} ${_fault_script} continual $<TARGET_FILE:train> $<TARGET_FILE:tune>
          $<TARGET_FILE:reproduce> $<TARGET_FILE:continual> ${_fault_out}/continual ${SLEEPNET_FAULT_PYTHON}
          ${SLEEPNET_DATA_DIR}/mnist)
set_tests_properties(example_fault_injection_tune_reproduce example_fault_injection_continual_mnist PROPERTIES
  TIMEOUT 300 RUN_SERIAL TRUE)
