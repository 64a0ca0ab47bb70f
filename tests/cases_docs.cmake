# CTest cases for the C++ code blocks of README.md and docs/*.md (issue 13, item 7):
#   docs_snippets_sync     every C++ block of the Markdown is, verbatim, inside the
#                          `// snippet-begin <doc>` ... `// snippet-end` markers of a file
#                          in docs/snippets/, and every such region is still a block of its
#                          doc (cmake/check_doc_snippets.cmake; no compiler involved). A
#                          block is excluded only by `<!-- snippet: skip (reason) -->` on
#                          the line before its fence.
#   docs_snippets_build    compiles docs/snippets/*.cpp: one translation unit (unity build),
#                          so the library is compiled once for all snippets; the target
#                          docs_snippets is not part of `all`, this case builds it, so a
#                          snippet that no longer compiles fails this case, not the build
#   docs_snippets_run      runs the cheap snippets (doctest cases on the Patches data,
#                          under a second); the others (MNIST files, the authors'
#                          784-1200-1200-10 network) are only compiled, in functions that
#                          are never called
# docs/snippets/snippets.hpp explains how to add a snippet.

add_test(NAME docs_snippets_sync
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/check_doc_snippets.cmake)
set_tests_properties(docs_snippets_sync PROPERTIES LABELS docs TIMEOUT 120)

file(GLOB _docs_snippet_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/snippets/*.cpp)
add_executable(docs_snippets EXCLUDE_FROM_ALL ${_docs_snippet_sources})
target_link_libraries(docs_snippets PRIVATE sleepnet::sleepnet sleepnet_dev_flags doctest::doctest)
set_target_properties(docs_snippets PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  # snippets name results they do not use (`auto r = ...;`) to show the API, and leave
  # optional aggregate members to their defaults (`TuneData<float> data{x, vx, vy};`)
  target_compile_options(docs_snippets PRIVATE -Wno-unused-variable -Wno-unused-but-set-variable
                         -Wno-missing-field-initializers)
endif()

get_property(_docs_multi GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)
set(_docs_config_args)
if(_docs_multi)
  set(_docs_config_args --config $<CONFIG>)
endif()
add_test(NAME docs_snippets_build
  COMMAND ${CMAKE_COMMAND} --build ${PROJECT_BINARY_DIR} --target docs_snippets ${_docs_config_args})
set_tests_properties(docs_snippets_build PROPERTIES
  FIXTURES_SETUP docs_snippets_built LABELS docs TIMEOUT 1800)

set(_docs_run_dir ${CMAKE_CURRENT_BINARY_DIR}/docs-snippets)   # raster.npy lands here
file(MAKE_DIRECTORY ${_docs_run_dir})
add_test(NAME docs_snippets_run COMMAND docs_snippets WORKING_DIRECTORY ${_docs_run_dir})
set_tests_properties(docs_snippets_run PROPERTIES
  FIXTURES_REQUIRED docs_snippets_built LABELS docs TIMEOUT 600
  ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
