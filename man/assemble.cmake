cmake_minimum_required(VERSION 3.18)
# Makes a man page from its template: the line @GENERATED@ becomes what GENERATOR
# prints when run with ARG (a program built from the tables the page describes),
# @VERSION@ the project's version and @PLUGIN_PATH@ where the plugin is installed.
# Run by the build: cmake -DTEMPLATE=... -DOUTPUT=... -DGENERATOR=... -DARG=...
# -DVERSION=... -DPLUGIN_PATH=... -P assemble.cmake
execute_process(COMMAND "${GENERATOR}" "${ARG}" OUTPUT_VARIABLE generated RESULT_VARIABLE rc
  ERROR_VARIABLE errors)
if(NOT rc EQUAL 0 OR NOT errors STREQUAL "")
  message(FATAL_ERROR "${GENERATOR} ${ARG} failed (${rc}): ${errors}")
endif()
file(READ "${TEMPLATE}" text)
string(FIND "${text}" "\n@GENERATED@\n" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${TEMPLATE} has no @GENERATED@ line")
endif()
string(REPLACE "\n@GENERATED@\n" "\n${generated}" text "${text}")
string(REPLACE "@VERSION@" "${VERSION}" text "${text}")
string(REPLACE "@PLUGIN_PATH@" "${PLUGIN_PATH}" text "${text}")
file(WRITE "${OUTPUT}" "${text}")
