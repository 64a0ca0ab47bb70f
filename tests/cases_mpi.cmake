# The parameter search over MPI ranks (SLEEPNET_MPI=ON: tune_mpi): on 2 and 3 ranks it
# writes the serial search's log and parameters, and a search whose rank is killed resumes
# to them (tests/mpi_tune_check.sh). Root in a container needs OpenMPI's consent variables.
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
  ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OPENBLAS_NUM_THREADS=1;OMPI_MCA_rmaps_base_oversubscribe=1")
