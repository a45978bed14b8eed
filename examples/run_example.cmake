# Runs one example as a test: it must exit with 0 and print every expected
# line fragment (literal text, not regexes).
#   cmake -DEXAMPLE=<exe> [-DARGS=<arg>] -DEXPECT_0=<text> [-DEXPECT_1=<text> ...] -P run_example.cmake
execute_process(COMMAND ${EXAMPLE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXAMPLE} exited with ${rc}")
endif()
foreach(i RANGE 0 9)
  if(DEFINED EXPECT_${i})
    string(FIND "${out}" "${EXPECT_${i}}" pos)
    if(pos EQUAL -1)
      message(FATAL_ERROR "the output lacks: ${EXPECT_${i}}")
    endif()
  endif()
endforeach()
