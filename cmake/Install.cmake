# `cmake --install build --prefix P`: the public headers, libslimformer.a, the slimformer CLI, a CMake
# package (find_package(slimformer) -> slimformer::slimformer) and slimformer.pc (docs/library.md).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# slimformer::slimformer links libslimformer.a whole, as slimformer_lib does in the build tree (the
# attention mechanisms register themselves from static initializers), then its dependencies
# (slim_deps, exported as slimformer::deps and found again by slimformerConfig.cmake). A target of
# its own because CMake 3.25 exports the target name inside $<LINK_LIBRARY:...> unchanged.
add_library(slimformer_installed INTERFACE)
set_target_properties(slimformer_installed PROPERTIES EXPORT_NAME slimformer)
set_target_properties(slimformer_core PROPERTIES EXPORT_NAME core)
set_target_properties(slim_deps PROPERTIES EXPORT_NAME deps)
target_link_libraries(slimformer_installed INTERFACE
  "$<INSTALL_INTERFACE:$<LINK_LIBRARY:WHOLE_ARCHIVE,slimformer::core>>")
target_include_directories(slimformer_core INTERFACE "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
target_compile_features(slimformer_installed INTERFACE cxx_std_17)   # the public headers are C++17
# A sanitized archive needs the sanitizer runtimes at the consumer's link.
set(SLIM_SANITIZE_LINK "")
if(SLIM_SANITIZE)
  set(SLIM_SANITIZE_LINK "-fsanitize=address,undefined")
  target_link_options(slimformer_installed INTERFACE "${SLIM_SANITIZE_LINK}")
endif()

set(SLIM_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/slimformer")
install(TARGETS slimformer_core slimformer_installed slim_deps EXPORT slimformerTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
install(TARGETS slimformer RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${CMAKE_SOURCE_DIR}/include/slimformer" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h")
install(EXPORT slimformerTargets NAMESPACE slimformer:: DESTINATION "${SLIM_CMAKE_DIR}")

configure_package_config_file("${CMAKE_SOURCE_DIR}/cmake/slimformerConfig.cmake.in"
  "${CMAKE_BINARY_DIR}/install/slimformerConfig.cmake" INSTALL_DESTINATION "${SLIM_CMAKE_DIR}")
# 0.x: a minor release may change the API.
write_basic_package_version_file("${CMAKE_BINARY_DIR}/install/slimformerConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/install/slimformerConfig.cmake"
  "${CMAKE_BINARY_DIR}/install/slimformerConfigVersion.cmake" DESTINATION "${SLIM_CMAKE_DIR}")

# slimformer.pc finds its prefix from its own place (${pcfiledir}), so --prefix at install time holds.
file(RELATIVE_PATH SLIM_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" SLIM_PC_TO_PREFIX "${SLIM_PC_TO_PREFIX}")
configure_file("${CMAKE_SOURCE_DIR}/cmake/slimformer.pc.in" "${CMAKE_BINARY_DIR}/install/slimformer.pc.gen" @ONLY)
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/install/slimformer.pc"
  INPUT "${CMAKE_BINARY_DIR}/install/slimformer.pc.gen")
install(FILES "${CMAKE_BINARY_DIR}/install/slimformer.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
