# Runs a fuzz target for a short smoke run over a fresh copy of its seed corpus, so that what
# the run adds to the corpus stays in the build tree. Fails when the target finds anything.
# Usage: cmake -DFUZZER=path -DSEEDS=dir -DWORK_DIR=dir -P run_fuzzer.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus ${WORK_DIR}/artifacts)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK_DIR}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=20 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix=${WORK_DIR}/artifacts/ ${WORK_DIR}/corpus
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}); the input is in ${WORK_DIR}/artifacts")
endif()
