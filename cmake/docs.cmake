# The `docs` target: the API reference of the installed headers (include/mmx/), made by Doxygen
# from their /// comments. Optional: without Doxygen the target does not exist. A warning (an
# undocumented public symbol, a broken reference) fails the build.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  return()
endif()

# The installed headers (install.cmake's list), less those that still have undocumented public
# symbols (Doxygen would warn). Document one, then take it off this list.
set(MMX_UNDOCUMENTED_HEADERS)
set(MMX_DOXYGEN_INPUT ${PROJECT_SOURCE_DIR}/include/mmx/mmx.hpp)
foreach(header ${MMX_PUBLIC_HEADERS})
  if(header IN_LIST MMX_UNDOCUMENTED_HEADERS)
    continue()
  endif()
  list(APPEND MMX_DOXYGEN_INPUT ${PROJECT_SOURCE_DIR}/${header})
endforeach()
list(JOIN MMX_DOXYGEN_INPUT " " MMX_DOXYGEN_INPUT)
set(MMX_DOXYGEN_OUT ${PROJECT_BINARY_DIR}/docs)
configure_file(${PROJECT_SOURCE_DIR}/cmake/Doxyfile.in ${PROJECT_BINARY_DIR}/Doxyfile @ONLY)
add_custom_target(docs
  COMMAND ${DOXYGEN_EXECUTABLE} ${PROJECT_BINARY_DIR}/Doxyfile
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
  COMMENT "API reference -> ${MMX_DOXYGEN_OUT}/html/index.html"
  VERBATIM)
