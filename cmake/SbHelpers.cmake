# Small helpers in the spirit of Abseil's absl_cc_library: one target per module folder.

# SB_PCH (on in the debug preset): nlohmann/json is in two of every three translation units.
# Under clang a header precompiled per target (the targets' flags differ) with its templates
# instantiated once takes about a third off such a unit's compile (calendar_repository.cc:
# 14.8 s to 9.6 s, for a 4.8 s header). Under g++ at -O3 it costs more than it saves (a 7.9 s,
# 100 MB header for 1.4 s a unit), so the release preset, which also proves that the sources
# include what they use, builds without it.
function(sb_precompile target)
  if(NOT SB_PCH)
    return()
  endif()
  target_precompile_headers(${target} PRIVATE <nlohmann/json.hpp> ${ARGN})
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # Lets ccache reuse a precompiled header's users (it also needs pch_defines,time_macros).
    target_compile_options(${target} PRIVATE "SHELL:-Xclang -fno-pch-timestamp")
  endif()
endfunction()

# sb_cc_library(NAME <name> SRCS <files...> DEPS <targets...>)
function(sb_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  sb_precompile(${ARG_NAME})
endfunction()

# sb_cc_test(NAME <name> SRCS <files...> DEPS <targets...> [LABELS <labels...>])
# Tests named *_pgtest get the "postgres" label; they start their own server.
function(sb_cc_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  sb_precompile(${ARG_NAME} <gtest/gtest.h>)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set(labels ${ARG_LABELS})
  if(ARG_NAME MATCHES "_pgtest$")
    list(APPEND labels postgres)
  endif()
  if(labels)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${labels}")
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT 600)
endfunction()
