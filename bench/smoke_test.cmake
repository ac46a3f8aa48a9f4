# Runs a benchmark program (produce_bench or consume_bench) on a few thousand records and checks
# that it exits 0 (every record delivered, or received, exactly once) and prints a result line
# for every client and workload. Invoked by ctest as `cmake -DBENCH=path -P smoke_test.cmake`,
# with -DCLIENTS=a,b,... to run those clients rather than the program's default ones.
set(clients librdkafka client_core sidecar)
set(clients_flag "")
if(DEFINED CLIENTS)
  string(REPLACE "," ";" clients "${CLIENTS}")
  set(clients_flag --clients ${CLIENTS})
endif()
execute_process(
  COMMAND ${BENCH} --records-scale 0.005 --partitions 8 ${clients_flag}
  RESULT_VARIABLE exit_code
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
get_filename_component(program ${BENCH} NAME)
if(NOT exit_code EQUAL 0)
  message(FATAL_ERROR "${program} exited with ${exit_code}\n${out}\n${err}")
endif()
foreach(client ${clients})
  foreach(workload "100B +none" "100B +lz4" "1KiB +none" "1KiB +lz4")
    if(NOT out MATCHES "\n${client} +${workload} +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+x +[0-9.]+\n")
      message(FATAL_ERROR "no result line for ${client} ${workload}:\n${out}\n${err}")
    endif()
  endforeach()
endforeach()
message(STATUS "${out}")
