# CHANGELOG.md's newest version is the project's (CMakeLists.txt's project()), and its
# entry has a date; an "Unreleased" section may come first. Run by ctest:
# cmake -DCHANGELOG=... -DVERSION=... -P check-changelog.cmake
cmake_minimum_required(VERSION 3.18)
file(STRINGS "${CHANGELOG}" headings REGEX "^## ")
if(NOT headings)
  message(FATAL_ERROR "${CHANGELOG} has no version heading")
endif()
# Keep a Changelog's "Unreleased" section, above the newest version, gathers what is not
# released yet
list(GET headings 0 newest)
if(newest MATCHES "^## \\[?Unreleased\\]?$")
  list(LENGTH headings count)
  if(count LESS 2)
    message(FATAL_ERROR "${CHANGELOG} has no version heading below '${newest}'")
  endif()
  list(GET headings 1 newest)
endif()
if(NOT newest MATCHES "^## \\[([0-9]+\\.[0-9]+\\.[0-9]+)\\] - [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
  message(FATAL_ERROR "${CHANGELOG}: the newest heading is '${newest}', not '## [X.Y.Z] - YYYY-MM-DD'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
  message(FATAL_ERROR "${CHANGELOG}'s newest version is ${CMAKE_MATCH_1}, the project's (CMakeLists.txt) ${VERSION}")
endif()
message(STATUS "CHANGELOG.md's newest version is ${VERSION}")
