# One brief fuzz run (the CTest cases of fuzz/CMakeLists.txt): copies the seed corpus
# CORPUS to WORK/corpus, runs the target EXE on it for SECONDS seconds (single process),
# and fails when the target reports a finding (its crash input lands in WORK/).
# usage: cmake -DEXE=... -DCORPUS=... -DWORK=... -DSECONDS=... -P run_brief.cmake
foreach(var EXE CORPUS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_brief.cmake: -D${var}=... is missing")
  endif()
endforeach()
if(NOT IS_DIRECTORY "${CORPUS}")
  message(FATAL_ERROR "run_brief.cmake: seed corpus '${CORPUS}' is not a directory")
endif()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
file(COPY "${CORPUS}/" DESTINATION "${WORK}/corpus")
execute_process(
  COMMAND "${EXE}" "${WORK}/corpus" -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10
          -print_final_stats=1 -artifact_prefix=${WORK}/
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz target ${EXE} reported a finding (exit ${rc}); its input is in ${WORK}/; "
          "reproduce with: ${EXE} <that file>")
endif()
