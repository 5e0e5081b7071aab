# cmake -DCOMMAND=<program;args...> -DEXIT=<status> -DEXPECT=<regex> [-DFILE=<path>]
#       -P run_and_check.cmake
# Runs COMMAND and fails unless it exits with EXIT and its output (stdout and
# stderr, then the contents of FILE if given) matches EXPECT.
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(text "${out}${err}")
if(FILE)
  if(NOT EXISTS "${FILE}")
    message(FATAL_ERROR "expected the command to write ${FILE}\noutput:\n${text}")
  endif()
  file(READ "${FILE}" contents)
  string(APPEND text "${contents}")
endif()
if(NOT "${status}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "expected exit status ${EXIT}, got ${status}\ncommand: ${COMMAND}\n"
                      "output:\n${text}")
endif()
if(NOT text MATCHES "${EXPECT}")
  message(FATAL_ERROR "expected output matching\n  ${EXPECT}\ncommand: ${COMMAND}\n"
                      "output:\n${text}")
endif()
message(STATUS "ok: exit ${status}, output matches '${EXPECT}'")
