# CHANGELOG.md's newest version is the project's (CMakeLists.txt's project()), and its
# entry has a date; an "## [Unreleased]" heading above it (Keep a Changelog's, for what
# is not released yet) is passed over. Run by ctest: cmake -DCHANGELOG=... -DVERSION=... -P check-changelog.cmake
cmake_minimum_required(VERSION 3.18)
file(STRINGS "${CHANGELOG}" headings REGEX "^## ")
list(FILTER headings EXCLUDE REGEX "^## \\[Unreleased\\]$")
if(NOT headings)
  message(FATAL_ERROR "${CHANGELOG} has no version heading")
endif()
list(GET headings 0 newest)
if(NOT newest MATCHES "^## \\[([0-9]+\\.[0-9]+\\.[0-9]+)\\] - [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$")
  message(FATAL_ERROR "${CHANGELOG}: the newest heading is '${newest}', not '## [X.Y.Z] - YYYY-MM-DD'")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
  message(FATAL_ERROR "${CHANGELOG}'s newest version is ${CMAKE_MATCH_1}, the project's (CMakeLists.txt) ${VERSION}")
endif()
message(STATUS "CHANGELOG.md's newest version is ${VERSION}")
