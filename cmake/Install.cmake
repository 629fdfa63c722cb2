# What `cmake --install` puts under the prefix (docs/plugins.md, "Build,
# install, run"), relative to it:
#   bin/dtbench                         the command
#   lib/dtbench/plugins/*.so            baseline, ref-*, zoo-*: dtbench finds them
#                                       as bin/../lib/dtbench/plugins
#                                       (harness/core/plugin_loader.c)
#   include/dtbench/plugin.h            the plugin ABI
#   lib/pkgconfig/dtbench.pc            pkg-config --cflags dtbench
#   lib/cmake/dtbench/                  find_package(dtbench): dtbench::plugin,
#                                       dtbench::dtbench, dtbench_EXECUTABLE
#   share/doc/dtbench/                  docs/plugins.md and examples/ddp_simple
# (lib is CMAKE_INSTALL_LIBDIR.) Included at the end of the top-level
# CMakeLists.txt; dtb_add_plugin installs each plugin itself.
include(CMakePackageConfigHelpers)

# The ABI version, read from the header so that it is stated once.
file(STRINGS ${CMAKE_SOURCE_DIR}/include/dtbench/plugin.h abi_line
     REGEX "^#define DTB_ABI_VERSION [0-9]+u?$")
string(REGEX REPLACE "^#define DTB_ABI_VERSION ([0-9]+)u?$" "\\1" DTB_ABI_VERSION "${abi_line}")
if(NOT DTB_ABI_VERSION MATCHES "^[0-9]+$")
  message(FATAL_ERROR "cannot read DTB_ABI_VERSION from include/dtbench/plugin.h")
endif()

# The header, as an INTERFACE target (dtbench::plugin in-tree and installed).
add_library(dtb_plugin_api INTERFACE)
add_library(dtbench::plugin ALIAS dtb_plugin_api)
target_include_directories(dtb_plugin_api INTERFACE
  $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(dtb_plugin_api INTERFACE c_std_11)
set_target_properties(dtb_plugin_api PROPERTIES EXPORT_NAME plugin)
set_target_properties(dtbench PROPERTIES EXPORT_NAME dtbench)

install(TARGETS dtbench EXPORT dtbenchTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS dtb_plugin_api EXPORT dtbenchTargets)
install(FILES ${CMAKE_SOURCE_DIR}/include/dtbench/plugin.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dtbench)

set(DTB_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dtbench)
install(EXPORT dtbenchTargets NAMESPACE dtbench:: DESTINATION ${DTB_CMAKE_PACKAGE_DIR})
set(DTB_INSTALL_EXECUTABLE ${CMAKE_INSTALL_BINDIR}/dtbench)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/dtbenchConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/dtbenchConfig.cmake
  INSTALL_DESTINATION ${DTB_CMAKE_PACKAGE_DIR}
  PATH_VARS DTB_INSTALL_EXECUTABLE DTB_INSTALL_PLUGIN_DIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: every minor version may change the tool; the ABI version is checked
# by the loader at run time, whatever the package version says.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/dtbenchConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/dtbenchConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/dtbenchConfigVersion.cmake
        DESTINATION ${DTB_CMAKE_PACKAGE_DIR})

# pkg-config: the prefix relative to the .pc file's directory.
file(RELATIVE_PATH DTB_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" DTB_PC_TO_PREFIX "${DTB_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/dtbench.pc.in ${CMAKE_BINARY_DIR}/cmake/dtbench.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/cmake/dtbench.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${CMAKE_SOURCE_DIR}/docs/plugins.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ddp_simple
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
