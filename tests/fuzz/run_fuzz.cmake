# One short libFuzzer run for ctest: the seed corpus copied to a fresh work folder
# (so the repository's corpus is never written), a bounded number of executions,
# crash files kept in the work folder. Fails when the fuzzer finds anything.
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds "${CORPUS}/*")
if(seeds)
  file(COPY ${seeds} DESTINATION "${WORK}/corpus")
endif()
execute_process(
  COMMAND "${FUZZER}" "${WORK}/corpus" -dict=${DICT} -runs=${RUNS} -max_total_time=${SECONDS}
    -max_len=4096 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
    -artifact_prefix=${WORK}/artifacts/
  WORKING_DIRECTORY "${WORK}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} found something (exit ${rc}); see ${WORK}/artifacts/")
endif()
