# Installing multimax as a library: public headers under include/mmx/, the static libraries,
# the `mmx` command, a CMake package (find_package(multimax)) and a pkg-config file.
# Included once from the top-level CMakeLists.txt, after every target exists.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Downstream code and this tree spell targets the same way: multimax::engine, multimax::nn.
add_library(multimax::engine ALIAS mmx_engine)
add_library(multimax::nn ALIAS mmx_nn)
set_target_properties(mmx_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(mmx_nn PROPERTIES EXPORT_NAME nn)
# multimax::engine is an interface over the engine's layer libraries (engine/CMakeLists.txt),
# installed beside it as libmmx_<layer>.a and exported as multimax::engine_<layer>: linking
# multimax::engine links them all, in order. Kept apart, not merged into one archive, so the
# installed libraries are the ones the build tree checked layer by layer.
set(MMX_ENGINE_LAYER_TARGETS ${MMX_ENGINE_LAYERS})
list(TRANSFORM MMX_ENGINE_LAYER_TARGETS PREPEND mmx_)
foreach(layer ${MMX_ENGINE_LAYERS})
  set_target_properties(mmx_${layer} PROPERTIES EXPORT_NAME engine_${layer})
endforeach()

# Installed, both <mmx/mmx.hpp> (include/) and the sources' own "engine/tensor.hpp" spelling
# (include/mmx/) resolve. In the build tree include/ holds the umbrella header.
target_include_directories(mmx_engine INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/mmx>)

# The public headers: the engine's (its layers' own list: not the kernels, whose raw math and
# oneDNN backend stay private, so no oneDNN header reaches a user) and everything under nn/.
file(GLOB_RECURSE MMX_NN_HEADERS CONFIGURE_DEPENDS
  RELATIVE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/nn/*.hpp)
set(MMX_PUBLIC_HEADERS ${MMX_ENGINE_PUBLIC_HEADERS} ${MMX_NN_HEADERS})
foreach(header ${MMX_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mmx/${dir} COMPONENT devel)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/mmx/mmx.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mmx COMPONENT devel)

install(TARGETS mmx_engine ${MMX_ENGINE_LAYER_TARGETS} mmx_nn EXPORT multimaxTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel)
install(TARGETS mmx RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)

set(MMX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/multimax)
install(EXPORT multimaxTargets NAMESPACE multimax:: DESTINATION ${MMX_CMAKE_DIR}
        COMPONENT devel)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/multimaxConfig.cmake.in
  ${PROJECT_BINARY_DIR}/multimaxConfig.cmake INSTALL_DESTINATION ${MMX_CMAKE_DIR})
# Before 1.0 a minor release may break the API (semver's 0.x rule), so 0.1 only accepts 0.1.x;
# from 1.0 on any later release of the same major version is accepted.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(MMX_VERSION_COMPATIBILITY SameMinorVersion)
else()
  set(MMX_VERSION_COMPATIBILITY SameMajorVersion)
endif()
write_basic_package_version_file(${PROJECT_BINARY_DIR}/multimaxConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY ${MMX_VERSION_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/multimaxConfig.cmake
              ${PROJECT_BINARY_DIR}/multimaxConfigVersion.cmake
        DESTINATION ${MMX_CMAKE_DIR} COMPONENT devel)

# pkg-config: the prefix is found relative to the .pc file itself, so the installed tree can be
# moved (and `cmake --install --prefix` may differ from CMAKE_INSTALL_PREFIX).
file(RELATIVE_PATH MMX_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" MMX_PC_TO_PREFIX "${MMX_PC_TO_PREFIX}")
# Built with MPI, the static mmx_nn needs Open MPI's library at link time (its ompi-c.pc).
set(MMX_PC_MPI_REQUIRES "")
if(MMX_MPI)
  set(MMX_PC_MPI_REQUIRES " ompi-c")
endif()
# The engine's layer libraries, each before the ones it needs.
list(TRANSFORM MMX_ENGINE_LAYERS PREPEND -lmmx_ OUTPUT_VARIABLE MMX_PC_ENGINE_LIBS)
list(JOIN MMX_PC_ENGINE_LIBS " " MMX_PC_ENGINE_LIBS)
configure_file(${PROJECT_SOURCE_DIR}/cmake/multimax.pc.in ${PROJECT_BINARY_DIR}/multimax.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/multimax.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
