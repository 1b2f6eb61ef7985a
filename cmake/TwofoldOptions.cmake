# Build options and the project-wide warning/sanitizer flags.
include_guard(GLOBAL)

option(TWOFOLD_BUILD_TESTS "Build GoogleTest suites" ON)
option(TWOFOLD_BUILD_BENCHMARKS "Build Google Benchmark programs" ON)
option(TWOFOLD_FUZZ "Build libFuzzer targets (requires clang)" OFF)
set(TWOFOLD_SANITIZE "" CACHE STRING "Sanitizers: '', 'address,undefined' or 'thread'")
set(TWOFOLD_FUZZ_SECONDS 10 CACHE STRING "Seconds each fuzz target runs under ctest")

if(CMAKE_CROSSCOMPILING)
  # Nothing built for the board runs on the build host.
  set(TWOFOLD_BUILD_TESTS OFF CACHE BOOL "" FORCE)
  set(TWOFOLD_BUILD_BENCHMARKS OFF CACHE BOOL "" FORCE)
  set(TWOFOLD_FUZZ OFF CACHE BOOL "" FORCE)
endif()

if(TWOFOLD_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "TWOFOLD_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()

add_library(twofold_warnings INTERFACE)
target_compile_options(twofold_warnings INTERFACE
  -Wall -Wextra -Werror -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
# -Wnull-dereference is left out: at -O2 it fires inside inlined Boost.Asio internals.
# -Wconversion where it pays: on code that handles guest data. Targets opt in.
add_library(twofold_strict_conversions INTERFACE)
target_compile_options(twofold_strict_conversions INTERFACE -Wconversion -Wsign-conversion)

if(TWOFOLD_SANITIZE)
  add_compile_options(-fsanitize=${TWOFOLD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${TWOFOLD_SANITIZE})
  if(TWOFOLD_SANITIZE MATCHES "thread")
    # GCC rejects std::atomic_thread_fence under TSan (-Werror=tsan) and TSan cannot model
    # fences anyway; Asio then uses its mutex-based fenced blocks instead.
    add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
  endif()
endif()
if(TWOFOLD_FUZZ)
  # Instrument all code for coverage; only fuzz executables link the libFuzzer main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "" FORCE)
endif()

# Release means -O2 here: GCC 12 at -O3 reports bogus -Wrestrict/-Warray-bounds inside
# libstdc++'s std::string (GCC PR 105329), which -Werror would turn into build failures.
foreach(lang C CXX)
  if(CMAKE_${lang}_FLAGS_RELEASE STREQUAL "-O3 -DNDEBUG")
    set(CMAKE_${lang}_FLAGS_RELEASE "-O2 -DNDEBUG" CACHE STRING "Release flags" FORCE)
  endif()
endforeach()
