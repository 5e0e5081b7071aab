# Installs an apical build into a temporary prefix, then configures, builds
# and runs examples/models against it with find_package(apical), as a user
# of an installed apical would:
#   1. cmake --install BUILD_DIR --prefix WORK_DIR/prefix
#   2. cmake -S EXAMPLE_DIR -B WORK_DIR/build -DCMAKE_PREFIX_PATH=WORK_DIR/prefix
#   3. cmake --build WORK_DIR/build
#   4. run the compiled-in program (adaptation_demo), and the installed
#      `apical simulate` with the plugin built there.
# Variables: BUILD_DIR CONFIG WORK_DIR EXAMPLE_DIR NETWORK GENERATOR
# CXX_COMPILER BUILD_TYPE SANITIZE fmt_DIR Boost_DIR.

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${step} failed (${status}):\n  ${ARGN}\n${out}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
  message(STATUS "${step}: ok")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
run("install into ${prefix}" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
    ${config_args})
foreach(file include/apical/engine/plugin.hpp include/apical/models/builtin.hpp bin/apical)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "the installation lacks ${file}")
  endif()
endforeach()
file(GLOB_RECURSE config_file ${prefix}/apicalConfig.cmake)
if(NOT config_file)
  message(FATAL_ERROR "the installation lacks apicalConfig.cmake")
endif()

# The same compiler and dependencies as the build under test. A sanitized
# apical is a set of instrumented static libraries: its users compile with
# the same instrumentation (the link options come with apical::engine).
set(configure_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${prefix})
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(fmt_DIR)
  list(APPEND configure_args -Dfmt_DIR=${fmt_DIR})
endif()
if(Boost_DIR)
  list(APPEND configure_args -DBoost_DIR=${Boost_DIR})
endif()
if(SANITIZE)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
run("configure examples/models" ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${build} ${configure_args})
run("build examples/models" ${CMAKE_COMMAND} --build ${build} ${config_args})

find_program(demo adaptation_demo PATHS ${build} ${build}/${CONFIG} NO_DEFAULT_PATH)
find_file(adaptive libapical_lif_adaptive.so PATHS ${build} ${build}/${CONFIG} NO_DEFAULT_PATH)
find_file(alpha libapical_lif_alpha.so PATHS ${build} ${build}/${CONFIG} NO_DEFAULT_PATH)
if(NOT demo OR NOT adaptive OR NOT alpha)
  message(FATAL_ERROR "the build of examples/models lacks adaptation_demo or the plugin")
endif()
run("run adaptation_demo" ${demo} 100)
if(NOT last_output MATCHES "ISIs \\(ms\\): [0-9]")
  message(FATAL_ERROR "adaptation_demo printed no interspike intervals:\n${last_output}")
endif()
run("run the installed apical with the plugin" ${prefix}/bin/apical simulate --plugin ${adaptive}
    --plugin ${alpha} --config ${NETWORK} --duration 50 --no-spikes
    --output ${WORK_DIR}/out)
if(NOT last_output MATCHES "adaptive +[0-9]+ spikes")
  message(FATAL_ERROR "apical simulate printed no population summary:\n${last_output}")
endif()
