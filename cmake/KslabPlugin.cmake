# kslab_add_wavepci_plugin(<name> SOURCES <src>... [DEFINITIONS <def>...] [INCLUDE_DIRS <dir>...])
#
# Build a WavePci driver plugin ${CMAKE_BINARY_DIR}/drivers/<name>.so (target kslab_plugin_<name>)
# the way drivers outside the tree are built (<kslab/plugin.h>): a shared object compiled against
# kslab's headers and linked against libkslab.so, whose symbols it resolves when a kslab worker
# process dlopens it (the process has libkslab loaded already).  One of SOURCES must define the
# entry point (KSLAB_WAVEPCI_PLUGIN(driver)).
#
#   DEFINITIONS   compile definitions (FOO or FOO=1), e.g. to select a variant of shared sources
#   INCLUDE_DIRS  extra include directories, searched first (a source's own directory is searched
#                 for "x.h" anyway; give the original's directory when SOURCES are patched copies
#                 elsewhere)
#
# SOURCES may be C or C++ (.cpp): C++ is compiled as kernel C++ (KSLAB_CXX_DRIVER_FLAGS) and the
# plugin gets kslab's C++ runtime.  The WDK's header names resolve to kslab's (include/kslab/wdk).
#
# The plugin gets the project's warnings (-Werror) and sanitizer flags (kslab_flags).  It is
# linked with -Bsymbolic so that its own functions and data bind to its own definitions, never to
# same-named ones elsewhere, and with -z defs: a symbol libkslab does not export is a link error.
# What a C++ driver is compiled with (kernel C++: no exceptions or RTTI, operator new may return
# NULL, WCHAR is 16 bits); a plugin with C++ sources gets the C++ runtime (kslab_cxxrt).
set(KSLAB_CXX_DRIVER_FLAGS -fno-exceptions -fno-rtti -fcheck-new -fshort-wchar -g)

function(kslab_add_wavepci_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;DEFINITIONS;INCLUDE_DIRS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "kslab_add_wavepci_plugin(${name}): no SOURCES")
  endif()
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kslab_add_wavepci_plugin(${name}): unexpected arguments ${P_UNPARSED_ARGUMENTS}")
  endif()
  set(target kslab_plugin_${name})
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    OUTPUT_NAME "${name}"
    LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/drivers"
    POSITION_INDEPENDENT_CODE ON
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_EXTENSIONS OFF)
  # <kslab/...> and the WDK's own header names (<portcls.h>, <wdm.h>, ...).
  target_include_directories(${target} PRIVATE ${P_INCLUDE_DIRS} "${PROJECT_SOURCE_DIR}/include"
                                               "${PROJECT_SOURCE_DIR}/include/kslab/wdk")
  target_compile_definitions(${target} PRIVATE ${P_DEFINITIONS})
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:${KSLAB_CXX_DRIVER_FLAGS}>)
  target_link_libraries(${target} PRIVATE kslab kslab_flags)
  set(cxx_sources ${P_SOURCES})
  list(FILTER cxx_sources INCLUDE REGEX "\\.(cpp|cc|cxx|C)$")
  if(cxx_sources)
    # Whole: its operator new/delete must be the plugin's own even when a sanitizer runtime or
    # libstdc++ earlier on the link line defines them too.
    target_link_libraries(${target} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,kslab_cxxrt>")
  endif()
  target_link_options(${target} PRIVATE "LINKER:-Bsymbolic")
  if(NOT KSLAB_SANITIZE) # sanitizer runtimes leave symbols for the executable to provide
    target_link_options(${target} PRIVATE "LINKER:-z,defs")
  endif()
  # Running it needs the command line: build it with the plugin.
  if(TARGET kslab_cli)
    add_dependencies(${target} kslab_cli)
  endif()
endfunction()

# kslab_add_stream_plugin(<name> SOURCES <src>... [DEFINITIONS <def>...] [INCLUDE_DIRS <dir>...])
#
# The same for a stream class minidriver plugin (`kslab stream --driver drivers/<name>.so`): one of
# SOURCES defines the entry point with KSLAB_STREAM_PLUGIN(driver).  Same rules: no libkslab link,
# -Bsymbolic, the project's warnings and sanitizers.
function(kslab_add_stream_plugin name)
  cmake_parse_arguments(P "" "" "SOURCES;DEFINITIONS;INCLUDE_DIRS" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "kslab_add_stream_plugin(${name}): no SOURCES")
  endif()
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kslab_add_stream_plugin(${name}): unexpected arguments ${P_UNPARSED_ARGUMENTS}")
  endif()
  kslab_add_wavepci_plugin(${name} SOURCES ${P_SOURCES} DEFINITIONS ${P_DEFINITIONS} INCLUDE_DIRS ${P_INCLUDE_DIRS})
endfunction()
