# CTest cases for the numpy side of the model directory contract (docs: design.md, "Model
# directory"; format: include/sleepnet/nn/io.hpp), driven by tests/numpy/interop.py
# (standard library + numpy only) through the example programs:
#   numpy_writes_sleepnet_reads     numpy writes model dirs + features, `evaluate` must
#                                   predict exactly numpy's argmax of z_L
#   sleepnet_writes_numpy_reads     `train` writes model dirs, numpy reads them (keys,
#                                   shapes, dtype) and predicts exactly what `evaluate` does
#   numpy_corrupt_inputs_rejected   broken files make `evaluate` exit non-zero with an error
#                                   naming the file
# They need the example programs; without them (SLEEPNET_BUILD_EXAMPLES=OFF) there is
# nothing to test. A Python with numpy is looked for at configure time: $SLEEPNET_PYTHON
# (CMake or environment variable), then `python3` on PATH, then /usr/bin/python3 (Debian's
# python3-numpy, installed by scripts/install-deps.sh). Without one the cases fail, naming
# the script: CI always has numpy, so a missing one is an error, not a reason to skip.

if(NOT SLEEPNET_BUILD_EXAMPLES OR NOT TARGET train OR NOT TARGET evaluate)
  return()
endif()

# Release builds with the MNIST data: the control network trained by example_train_mnist
# (fixture ex_mnist_model, tests/cases_examples.cmake) is attacked by
#   fgsm_certified_matches_grid_mnist  the certified FGSM grid must equal the brute-force
#                                      grid sample by sample on 1,000 test images
#                                      (tests/test_fgsm_fast.cpp, last case)
#   numpy_attack_reference_mnist       tests/numpy/attack_reference.py: an independent numpy
#                                      FGSM grid and DeepFool on the first 300 test images;
#                                      the medians must agree with `attack --json` within 10%
#                                      (declared below, once numpy is found)
set(_np_mnist_model "${CMAKE_CURRENT_BINARY_DIR}/examples-out/mnist/control")
set(_np_mnist OFF)
if(CMAKE_BUILD_TYPE STREQUAL "Release" AND TARGET attack
   AND (EXISTS "${SLEEPNET_DATA_DIR}/mnist/t10k-images-idx3-ubyte" OR EXISTS "${SLEEPNET_DATA_DIR}/mnist/t10k-images-idx3-ubyte.gz"))
  set(_np_mnist ON)
  if(TARGET test_fgsm_fast)
    add_test(NAME fgsm_certified_matches_grid_mnist
      COMMAND test_fgsm_fast "--test-case=*MNIST*")
    set_tests_properties(fgsm_certified_matches_grid_mnist PROPERTIES
      FIXTURES_REQUIRED ex_mnist_model
      ENVIRONMENT "OPENBLAS_NUM_THREADS=2;SLEEPNET_FGSM_MNIST_MODEL=${_np_mnist_model};SLEEPNET_FGSM_MNIST_COUNT=1000"
      PROCESSORS 2 TIMEOUT 900)
  endif()
endif()

set(_np_candidates)
if(DEFINED SLEEPNET_PYTHON AND NOT "${SLEEPNET_PYTHON}" STREQUAL "")
  list(APPEND _np_candidates "${SLEEPNET_PYTHON}")
elseif(NOT "$ENV{SLEEPNET_PYTHON}" STREQUAL "")
  list(APPEND _np_candidates "$ENV{SLEEPNET_PYTHON}")
endif()
find_program(_np_path_python3 NAMES python3 NO_CACHE)
if(_np_path_python3)
  list(APPEND _np_candidates "${_np_path_python3}")
endif()
list(APPEND _np_candidates /usr/bin/python3)
list(REMOVE_DUPLICATES _np_candidates)

set(_np_python "")
set(_np_tried "")
foreach(_cand IN LISTS _np_candidates)
  execute_process(COMMAND "${_cand}" -c "import numpy; print(numpy.__version__)"
                  RESULT_VARIABLE _np_rc OUTPUT_VARIABLE _np_version ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE TIMEOUT 60)
  if(_np_rc STREQUAL "0")
    set(_np_python "${_cand}")
    break()
  endif()
  string(APPEND _np_tried " ${_cand}")
endforeach()

set(_np_script ${CMAKE_CURRENT_SOURCE_DIR}/numpy/interop.py)
set(_np_work ${CMAKE_CURRENT_BINARY_DIR}/numpy)
set(_np_cases numpy_writes_sleepnet_reads sleepnet_writes_numpy_reads numpy_corrupt_inputs_rejected)

if(_np_python STREQUAL "")
  string(CONCAT _np_message "NUMPY MISSING: no Python with numpy (tried:${_np_tried}). "
         "Run scripts/install-deps.sh (installs python3-numpy) or set SLEEPNET_PYTHON to a Python "
         "with numpy, then re-run cmake.")
  string(JOIN ", " _np_names ${_np_cases})
  message(WARNING "numpy interoperability tests: ${_np_message} The tests ${_np_names} will fail.")
  foreach(_case IN LISTS _np_cases)
    add_test(NAME ${_case} COMMAND ${CMAKE_COMMAND} -E echo "${_np_message}")
    set_tests_properties(${_case} PROPERTIES FAIL_REGULAR_EXPRESSION "NUMPY MISSING" LABELS numpy)
  endforeach()
  return()
endif()
message(STATUS "numpy interoperability tests: ${_np_python} (numpy ${_np_version})")

add_test(NAME numpy_writes_sleepnet_reads
  COMMAND "${_np_python}" -B ${_np_script} numpy-writes
          --evaluate $<TARGET_FILE:evaluate> --workdir ${_np_work}/numpy_writes)
add_test(NAME sleepnet_writes_numpy_reads
  COMMAND "${_np_python}" -B ${_np_script} sleepnet-writes
          --train $<TARGET_FILE:train> --evaluate $<TARGET_FILE:evaluate> --workdir ${_np_work}/sleepnet_writes)
add_test(NAME numpy_corrupt_inputs_rejected
  COMMAND "${_np_python}" -B ${_np_script} corrupt
          --evaluate $<TARGET_FILE:evaluate> --workdir ${_np_work}/corrupt)
set_tests_properties(${_np_cases} PROPERTIES
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1;PYTHONDONTWRITEBYTECODE=1"
  LABELS numpy
  TIMEOUT 300)
# sleepnet_writes_numpy_reads runs its `train` programs concurrently
set_tests_properties(sleepnet_writes_numpy_reads PROPERTIES PROCESSORS 2)

if(_np_mnist)
  add_test(NAME numpy_attack_reference_mnist
    COMMAND "${_np_python}" -B ${CMAKE_CURRENT_SOURCE_DIR}/numpy/attack_reference.py
            --attack $<TARGET_FILE:attack> --model ${_np_mnist_model} --data ${SLEEPNET_DATA_DIR}/mnist
            --count 300 --tolerance 0.10 --workdir ${_np_work}/attack_reference)
  set_tests_properties(numpy_attack_reference_mnist PROPERTIES
    FIXTURES_REQUIRED ex_mnist_model
    ENVIRONMENT "OPENBLAS_NUM_THREADS=2;PYTHONDONTWRITEBYTECODE=1"
    PASS_REGULAR_EXPRESSION "attack_reference: agree"
    LABELS numpy PROCESSORS 2 TIMEOUT 900)
endif()
