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

# Installed, both <mmx/mmx.hpp> (include/) and the sources' own "engine/tensor.hpp" spelling
# (include/mmx/) resolve. In the build tree include/ holds the umbrella header.
target_include_directories(mmx_engine PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/mmx>)

# The public headers: everything under engine/ and nn/ except the kernels (raw math and the
# oneDNN backend stay private: no oneDNN header reaches a user) and the tensor's strided copy.
file(GLOB_RECURSE MMX_PUBLIC_HEADERS CONFIGURE_DEPENDS
  RELATIVE ${PROJECT_SOURCE_DIR}
  ${PROJECT_SOURCE_DIR}/engine/*.hpp ${PROJECT_SOURCE_DIR}/nn/*.hpp)
list(FILTER MMX_PUBLIC_HEADERS EXCLUDE REGEX "^engine/(kernels/|strided_copy.hpp)")
foreach(header ${MMX_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mmx/${dir} COMPONENT devel)
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/mmx/mmx.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mmx COMPONENT devel)

install(TARGETS mmx_engine mmx_nn EXPORT multimaxTargets
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
configure_file(${PROJECT_SOURCE_DIR}/cmake/multimax.pc.in ${PROJECT_BINARY_DIR}/multimax.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/multimax.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
