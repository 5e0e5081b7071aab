# Optional parts found on the system: the Python module (pybind11, Python 3
# with numpy) and SONATA spike files (the HDF5 C library). Each option is ON
# by default and turns itself off, with a message, when what it needs is
# missing, so a build without them keeps working.

if(APICAL_PYTHON AND APICAL_SANITIZE)
  # An instrumented module needs the sanitizer runtime preloaded into python.
  message(STATUS "apical: Python module not built: APICAL_SANITIZE is ON")
  set(APICAL_PYTHON OFF)
endif()
if(APICAL_PYTHON)
  # The Debian packages (python3-numpy, python3-pytest, ...) are installed
  # for the system interpreter: prefer it to another python3 on the PATH
  # (pyenv, conda). -DPython3_EXECUTABLE=... chooses another.
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python3 3.8 COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    set(PYBIND11_FINDPYTHON ON)
    find_package(pybind11 2.6 CONFIG QUIET)
  endif()
  if(Python3_FOUND AND pybind11_FOUND)
    execute_process(COMMAND ${Python3_EXECUTABLE} -c "import numpy"
                    RESULT_VARIABLE apical_numpy_missing OUTPUT_QUIET ERROR_QUIET)
  endif()
  if(NOT Python3_FOUND OR NOT pybind11_FOUND OR apical_numpy_missing)
    message(STATUS "apical: Python module not built: needs pybind11, Python 3 headers and numpy "
                   "(apt-get install pybind11-dev python3-dev python3-numpy)")
    set(APICAL_PYTHON OFF)
  endif()
endif()
if(APICAL_PYTHON)
  message(STATUS "apical: Python module for ${Python3_EXECUTABLE} (${Python3_VERSION})")
  # The static libraries go into the module, a shared object. Position-
  # independent code without semantic interposition keeps calls between
  # the libraries' own functions direct (and inlinable), as in an executable.
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  include(CheckCXXCompilerFlag)
  check_cxx_compiler_flag(-fno-semantic-interposition APICAL_HAS_NO_SEMANTIC_INTERPOSITION)
  if(APICAL_HAS_NO_SEMANTIC_INTERPOSITION)
    target_compile_options(apical_options INTERFACE
      $<BUILD_INTERFACE:-fno-semantic-interposition>)
  endif()
endif()

if(APICAL_HDF5)
  # CMake's HDF5 search compiles a C test program.
  include(CheckLanguage)
  check_language(C)
  if(CMAKE_C_COMPILER)
    enable_language(C)
    find_package(HDF5 COMPONENTS C QUIET)
  endif()
  if(HDF5_FOUND)
    message(STATUS "apical: SONATA spike files with HDF5 ${HDF5_VERSION}")
  else()
    message(STATUS "apical: SONATA spike files not built: needs the HDF5 C library "
                   "(apt-get install libhdf5-dev)")
    set(APICAL_HDF5 OFF)
  endif()
endif()
