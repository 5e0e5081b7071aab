# Compiler settings shared by every apical target: warnings, the target
# CPU, optional sanitizers. Targets opt in with apical_target_defaults(<target>).
add_library(apical_options INTERFACE)
target_compile_options(apical_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  # GCC 12 reports false -Wrestrict overlaps inside std::string's
  # operator+ at -O2 and above (GCC bug 105329, fixed in GCC 13).
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>
  $<$<BOOL:${APICAL_WERROR}>:-Werror>)
# APICAL_NATIVE: use every instruction this CPU has (rounding, wider
# vectors), as Brian2's and NEST's own builds do. Floating-point
# contraction stays off, so a multiply and an add are never fused: the
# results, and with them the spikes, are bit for bit those of a portable
# build on any x86-64 machine. Set it OFF for a binary that must run on
# other CPUs. (Not passed on to programs built against the installed
# libraries.)
if(APICAL_NATIVE)
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag(-march=native APICAL_HAS_MARCH_NATIVE)
  if(APICAL_HAS_MARCH_NATIVE)
    target_compile_options(apical_options INTERFACE
      $<BUILD_INTERFACE:-march=native> $<BUILD_INTERFACE:-ffp-contract=off>)
  endif()
endif()
target_compile_options(apical_options INTERFACE $<BUILD_INTERFACE:-ffp-contract=off>)
if(APICAL_SANITIZE)
  target_compile_options(apical_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(apical_options INTERFACE -fsanitize=address,undefined)
  # Lets tests skip what would take minutes when instrumented (they say so).
  target_compile_definitions(apical_options INTERFACE APICAL_SANITIZED)
endif()

function(apical_target_defaults target)
  target_link_libraries(${target} PRIVATE apical_options)
endfunction()

# A libFuzzer target NAME from SOURCE, linked with the libraries that follow
# (APICAL_FUZZ with clang; scripts/fuzz.sh builds and runs them). The
# libraries' own code gets coverage feedback.
function(apical_fuzz_target name source)
  if(NOT APICAL_FUZZ)
    return()
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(WARNING "APICAL_FUZZ needs clang (libFuzzer); ${name} is not built with "
                    "${CMAKE_CXX_COMPILER_ID}. Configure with CXX=clang++.")
    return()
  endif()
  foreach(library ${ARGN})
    target_compile_options(${library} PRIVATE -fsanitize=fuzzer-no-link)
  endforeach()
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARGN})
  apical_target_defaults(${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
endfunction()
