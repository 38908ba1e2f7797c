# Run by the tests kslab_add_stress_test() adds (cmake -P): one `kslab stress` run with its JUnit
# XML, SARIF and JSON written under the test's build folder, its findings printed for CTest's log
# with their replay commands, and its exit status checked against what the test expects.
#   -DKSLAB=<kslab> -DDRIVER=<driver> -DARGS=<options, a ;-list> -DOUT=<path without extension>
#   -DEXPECT=0|1
string(REPLACE "\\;" ";" args "${ARGS}") # the list arrives with its separators escaped
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
execute_process(COMMAND "${KSLAB}" stress "${DRIVER}" ${args} --junit "${OUT}.xml" --sarif "${OUT}.sarif" --json
                OUTPUT_FILE "${OUT}.json" RESULT_VARIABLE rc)
set(verdict "no result")
if(EXISTS "${OUT}.json")
  file(READ "${OUT}.json" json)
  string(JSON verdict ERROR_VARIABLE jerr GET "${json}" result)
  string(JSON nfind ERROR_VARIABLE jerr LENGTH "${json}" findings)
  if(NOT jerr AND nfind GREATER 0)
    math(EXPR last "${nfind} - 1")
    foreach(i RANGE 0 ${last})
      string(JSON rule GET "${json}" findings ${i} rule)
      string(JSON msg GET "${json}" findings ${i} message)
      string(JSON known GET "${json}" findings ${i} known)
      string(JSON replay GET "${json}" findings ${i} replay)
      message(STATUS "kslab: ${rule} (${known}): ${msg}\n   replay: kslab replay ${replay} --driver ${DRIVER}")
    endforeach()
  endif()
endif()
message(STATUS "kslab stress: exit ${rc} (${verdict}); JUnit ${OUT}.xml, SARIF ${OUT}.sarif, JSON ${OUT}.json")
if(NOT "${rc}" STREQUAL "${EXPECT}")
  if("${rc}" STREQUAL "2")
    message(FATAL_ERROR "kslab stress could not run (exit 2): see its message above")
  elseif("${EXPECT}" STREQUAL "1")
    message(FATAL_ERROR "kslab stress found nothing (exit ${rc}), and this test expects a finding")
  else()
    message(FATAL_ERROR "kslab stress found a new finding (exit ${rc})")
  endif()
endif()
