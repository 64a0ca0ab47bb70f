# CTest cases for the CMake package contract: a tiny downstream program (tests/consumer)
# is configured, built and run against
#   (a) sleepnet installed from this build tree into a prefix under the build tree
#       (find_package(sleepnet) + sleepnet::sleepnet), and
#   (b) the source tree via add_subdirectory (tests/examples/bench must stay off).
# The consumers use this build's compiler and generator but none of its flags, so they
# are plain (un-sanitized) builds under the sanitizer build too.

set(_consumer_src ${CMAKE_CURRENT_SOURCE_DIR}/consumer)
set(_consumer_bin ${CMAKE_CURRENT_BINARY_DIR}/consumer)
set(_consumer_prefix ${_consumer_bin}/prefix)

get_property(_consumer_multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
set(_consumer_cmake_args -G "${CMAKE_GENERATOR}" "-DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}")
if(CMAKE_GENERATOR_PLATFORM)
  list(APPEND _consumer_cmake_args -A "${CMAKE_GENERATOR_PLATFORM}")
endif()
if(CMAKE_GENERATOR_TOOLSET)
  list(APPEND _consumer_cmake_args -T "${CMAKE_GENERATOR_TOOLSET}")
endif()
if(CMAKE_MAKE_PROGRAM)
  list(APPEND _consumer_cmake_args "-DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}")
endif()
if(NOT _consumer_multi)
  if(CMAKE_BUILD_TYPE)
    list(APPEND _consumer_cmake_args "-DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}")
  endif()
  set(_consumer_config_args)
else()
  set(_consumer_config_args --config $<CONFIG>)
endif()
if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.24)
  list(APPEND _consumer_cmake_args --fresh)   # never reuse a stale consumer cache
endif()
if(_consumer_multi)
  set(_consumer_ctest_config -C $<CONFIG>)
else()
  set(_consumer_ctest_config)
endif()

# (a) installed package
add_test(NAME consumer_install_sleepnet
  COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${PROJECT_BINARY_DIR} -DPREFIX=${_consumer_prefix}
          -DCONFIG=$<CONFIG> -P ${_consumer_src}/install_into.cmake)
set_tests_properties(consumer_install_sleepnet PROPERTIES
  FIXTURES_SETUP sleepnet_consumer_installed)

add_test(NAME consumer_install_configure
  COMMAND ${CMAKE_COMMAND} -S ${_consumer_src}/install -B ${_consumer_bin}/install-build
          ${_consumer_cmake_args}
          -DCMAKE_PREFIX_PATH=${_consumer_prefix}
          -DSLEEPNET_EXPECTED_PREFIX=${_consumer_prefix})
set_tests_properties(consumer_install_configure PROPERTIES
  FIXTURES_REQUIRED sleepnet_consumer_installed
  FIXTURES_SETUP sleepnet_consumer_install_configured)

add_test(NAME consumer_install_build
  COMMAND ${CMAKE_COMMAND} --build ${_consumer_bin}/install-build ${_consumer_config_args})
set_tests_properties(consumer_install_build PROPERTIES
  FIXTURES_REQUIRED "sleepnet_consumer_installed;sleepnet_consumer_install_configured"
  FIXTURES_SETUP sleepnet_consumer_install_built)

add_test(NAME consumer_install_run
  COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${_consumer_bin}/install-build ${_consumer_ctest_config}
          --output-on-failure --no-tests=error)
set_tests_properties(consumer_install_run PROPERTIES
  FIXTURES_REQUIRED "sleepnet_consumer_installed;sleepnet_consumer_install_configured;sleepnet_consumer_install_built")

# (b) add_subdirectory
add_test(NAME consumer_subdir_configure
  COMMAND ${CMAKE_COMMAND} -S ${_consumer_src}/subdir -B ${_consumer_bin}/subdir-build
          ${_consumer_cmake_args}
          -DSLEEPNET_SOURCE_DIR=${PROJECT_SOURCE_DIR})
set_tests_properties(consumer_subdir_configure PROPERTIES
  FIXTURES_SETUP sleepnet_consumer_subdir_configured)

add_test(NAME consumer_subdir_build
  COMMAND ${CMAKE_COMMAND} --build ${_consumer_bin}/subdir-build ${_consumer_config_args})
set_tests_properties(consumer_subdir_build PROPERTIES
  FIXTURES_REQUIRED sleepnet_consumer_subdir_configured
  FIXTURES_SETUP sleepnet_consumer_subdir_built)

add_test(NAME consumer_subdir_run
  COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${_consumer_bin}/subdir-build ${_consumer_ctest_config}
          --output-on-failure --no-tests=error)
set_tests_properties(consumer_subdir_run PROPERTIES
  FIXTURES_REQUIRED "sleepnet_consumer_subdir_configured;sleepnet_consumer_subdir_built")

set_tests_properties(
  consumer_install_sleepnet consumer_install_configure consumer_install_build consumer_install_run
  consumer_subdir_configure consumer_subdir_build consumer_subdir_run
  PROPERTIES LABELS consumer TIMEOUT 600)
