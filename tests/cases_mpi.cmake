# Over MPI ranks (SLEEPNET_MPI=ON). tune_mpi: on 2 and 3 ranks it writes the serial
# search's log and parameters, and a search whose rank is killed resumes to them
# (tests/mpi_tune_check.sh). reproduce_mpi --seeds 3 on 2 and 3 ranks: the serial
# --seeds 3 output (example_reproduce_seeds_serial). Root in a container needs OpenMPI's
# consent variables.
if(NOT (SLEEPNET_MPI AND SLEEPNET_BUILD_EXAMPLES))
  return()
endif()
find_program(SLEEPNET_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
add_test(NAME example_tune_mpi_patches
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/mpi_tune_check.sh $<TARGET_FILE:tune> $<TARGET_FILE:tune_mpi>
          ${MPIEXEC_EXECUTABLE} ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/control
          ${CMAKE_CURRENT_BINARY_DIR}/examples-out/patches/tune-mpi ${SLEEPNET_PYTHON3} 2 3)
set_tests_properties(example_tune_mpi_patches PROPERTIES
  FIXTURES_REQUIRED ex_patches_model RUN_SERIAL TRUE TIMEOUT 600
  ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1")

set(_mpi_env "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1")
foreach(_np 2 3)
  add_test(NAME example_reproduce_mpi_np${_np}
    COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe -np ${_np} $<TARGET_FILE:reproduce_mpi> --dataset patches --quick
            --seed 1 --seeds 3 --no-plots --out ${CMAKE_CURRENT_BINARY_DIR}/examples-out/reproduce-mpi-np${_np})
  add_test(NAME example_reproduce_mpi_np${_np}_equals_serial
    COMMAND ${CMAKE_COMMAND} -DA=${CMAKE_CURRENT_BINARY_DIR}/examples-out/reproduce-seeds-serial
            -DB=${CMAKE_CURRENT_BINARY_DIR}/examples-out/reproduce-mpi-np${_np}
            "-DFILES=table1.txt|table1.csv|fgsm_curve.csv|noise_curve.csv|blur_curve.csv|fig1_fgsm.dat|fig2_noise.dat|fig2_blur.dat|seed-101/table1.txt|seed-201/table1.csv"
            -DJSON=results.json -P ${CMAKE_CURRENT_SOURCE_DIR}/compare_outputs.cmake)
  set_tests_properties(example_reproduce_mpi_np${_np} PROPERTIES RUN_SERIAL TRUE TIMEOUT 300
    FIXTURES_SETUP ex_reproduce_mpi_np${_np} ENVIRONMENT "${_mpi_env}")
  set_tests_properties(example_reproduce_mpi_np${_np}_equals_serial PROPERTIES
    FIXTURES_REQUIRED "ex_reproduce_seeds_serial;ex_reproduce_mpi_np${_np}")
endforeach()
