# Helpers every component uses, so that tests, fuzz targets and benchmarks are declared the
# same way everywhere and picked up by the right build configuration.
include_guard(GLOBAL)

# twofold_library(NAME [STRICT] SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# STRICT adds -Wconversion: use it for code that parses or copies guest data.
function(twofold_library name)
  cmake_parse_arguments(ARG "STRICT;HEADER_ONLY" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  if(ARG_HEADER_ONLY)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${name} INTERFACE ${ARG_PUBLIC_LIBS})
    return()
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE twofold_warnings ${ARG_PRIVATE_LIBS})
  if(ARG_STRICT)
    target_link_libraries(${name} PRIVATE twofold_strict_conversions)
  endif()
endfunction()

# twofold_executable(NAME SOURCES ... [LIBS ...]) — a program installed into dom0.
function(twofold_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE twofold_warnings ${ARG_LIBS})
  install(TARGETS ${name} RUNTIME DESTINATION sbin)
endfunction()

# twofold_test(NAME SOURCES ... [LIBS ...] [LABELS ...])
# Labels in use: unit, hostile (exercises guest input; run under ASan/UBSan),
# concurrency (run under TSan), integration.
function(twofold_test name)
  if(NOT TWOFOLD_BUILD_TESTS OR TWOFOLD_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE twofold_warnings ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  add_test(NAME ${name} COMMAND ${name} --gtest_brief=1)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # A GTEST_SKIP makes the whole program "Skipped" to ctest, so scripts/test reports it and
  # never counts it as passed.
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
    SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\] [0-9]+ test")
endfunction()

# twofold_fuzz_target(NAME SOURCE file [LIBS ...] CORPUS dir)
# Built only with TWOFOLD_FUZZ=ON; ctest runs each target for TWOFOLD_FUZZ_SECONDS over a
# copy of its seed corpus (the repo's corpus is never written to).
function(twofold_fuzz_target name)
  if(NOT TWOFOLD_FUZZ)
    return()
  endif()
  cmake_parse_arguments(ARG "" "SOURCE;CORPUS" "LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCE})
  target_link_libraries(${name} PRIVATE twofold_warnings ${ARG_LIBS})
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus)
  add_test(NAME ${name}
    COMMAND ${CMAKE_COMMAND} -E env
      ${CMAKE_SOURCE_DIR}/tests/fuzz/run-fuzz-target $<TARGET_FILE:${name}> ${ARG_CORPUS} ${work} ${TWOFOLD_FUZZ_SECONDS})
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()

# twofold_benchmark(NAME SOURCES ... [LIBS ...]) — Google Benchmark programs; never tests.
function(twofold_benchmark name)
  if(NOT TWOFOLD_BUILD_BENCHMARKS OR TWOFOLD_FUZZ OR TWOFOLD_SANITIZE)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE twofold_warnings ${ARG_LIBS} benchmark::benchmark)
endfunction()

# Adds every immediate subdirectory that has a CMakeLists.txt, so components can be added
# without editing their parent. TWOFOLD_COMPONENTS (a ;-list of source-relative folders, e.g.
# "vmm/xen;tests/xen") limits the tree to those folders, their parents and their children:
# useful while other folders are mid-change.
set(TWOFOLD_COMPONENTS "" CACHE STRING "Only configure these source folders (empty: all)")
function(twofold_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child IN LISTS children)
    if(NOT IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${child} OR NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${child}/CMakeLists.txt)
      continue()
    endif()
    file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${child})
    set(wanted FALSE)
    if(NOT TWOFOLD_COMPONENTS)
      set(wanted TRUE)
    endif()
    foreach(component IN LISTS TWOFOLD_COMPONENTS)
      string(FIND "${component}/" "${rel}/" at_parent)
      string(FIND "${rel}/" "${component}/" at_child)
      if(at_parent EQUAL 0 OR at_child EQUAL 0)
        set(wanted TRUE)
      endif()
    endforeach()
    if(wanted)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
