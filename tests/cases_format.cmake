# format_check: every C++ file of the library, examples, benchmarks, tests and fuzz targets is formatted
# with the repository's .clang-format (apply: clang-format -i FILE...). Declared only when
# Debian's clang-format 14 is installed: other versions format some constructs differently.
# docs/snippets/*.cpp are left out: their regions must stay equal to the Markdown blocks.
find_program(SLEEPNET_CLANG_FORMAT NAMES clang-format-14 clang-format)
if(NOT SLEEPNET_CLANG_FORMAT)
  return()
endif()
execute_process(COMMAND ${SLEEPNET_CLANG_FORMAT} --version OUTPUT_VARIABLE _cf_version ERROR_QUIET)
if(NOT _cf_version MATCHES "version 14\\.")
  message(STATUS "format_check: ${SLEEPNET_CLANG_FORMAT} is not version 14; the check is not declared")
  return()
endif()
file(GLOB_RECURSE _cf_files CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/include/*.hpp
  ${PROJECT_SOURCE_DIR}/examples/*.cpp ${PROJECT_SOURCE_DIR}/examples/*.hpp
  ${PROJECT_SOURCE_DIR}/bench/*.cpp
  ${PROJECT_SOURCE_DIR}/tests/*.cpp ${PROJECT_SOURCE_DIR}/tests/*.hpp
  ${PROJECT_SOURCE_DIR}/python/src/*.cpp ${PROJECT_SOURCE_DIR}/python/src/*.hpp
  ${PROJECT_SOURCE_DIR}/fuzz/*.cpp ${PROJECT_SOURCE_DIR}/fuzz/*.hpp)
add_test(NAME format_check
  COMMAND ${SLEEPNET_CLANG_FORMAT} --dry-run -Werror --style=file ${_cf_files}
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
