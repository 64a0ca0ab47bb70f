# The LibTorch example (SLEEPNET_TORCH=ON only): torch_sleep trains a small
# torch::nn::Sequential on Patches (no data files), sleeps its Linear weights in place and
# writes what it found; the checks: every weight tensor kept its data_ptr, weights and
# forward()'s output changed, and the in-place torch sleep equals sleepnet::sleep on a
# DenseNetwork copy bit for bit.
if(NOT SLEEPNET_BUILD_EXAMPLES OR NOT TARGET torch_sleep)
  return()
endif()
set(_torch_out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/torch)
file(MAKE_DIRECTORY ${_torch_out})
set(_torch_check ${CMAKE_CURRENT_SOURCE_DIR}/check_json.cmake)
add_test(NAME example_torch_sleep_patches
  COMMAND $<TARGET_FILE:torch_sleep> --dataset patches --seed 2 --json ${_torch_out}/patches.json)
set_tests_properties(example_torch_sleep_patches PROPERTIES FIXTURES_SETUP ex_torch_patches
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
# name, key, op, value
foreach(_c "pointers_unchanged;pointers_moved;EQ;0"
           "weights_changed;weights_changed_count;GT;0"
           "forward_changed;forward_max_abs_change;GT;0"
           "identical_to_dense_network;dense_network_mismatches;EQ;0")
  list(GET _c 0 _name)
  list(GET _c 1 _key)
  list(GET _c 2 _op)
  list(GET _c 3 _value)
  add_test(NAME example_torch_sleep_patches_${_name}
    COMMAND ${CMAKE_COMMAND} -DFILE=${_torch_out}/patches.json -DKEY=${_key} -DOP=${_op} -DVALUE=${_value}
            -P ${_torch_check})
  set_tests_properties(example_torch_sleep_patches_${_name} PROPERTIES FIXTURES_REQUIRED ex_torch_patches)
endforeach()
