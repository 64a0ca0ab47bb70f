// The test program of the documentation snippets: doctest's main. tests/cases_docs.cmake
// compiles it together with every page file of docs/snippets/ as one translation unit, in
// which doctest.h may already have been included (without its implementation) by an
// earlier page: DOCTEST_CONFIG_IMPLEMENT is what asks a later include for the
// implementation (WITH_MAIN alone only works on the first include).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
