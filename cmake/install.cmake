# The C++ package: public headers, the static core and a relocatable package configuration, so
# that find_package(miniflow CONFIG REQUIRED) gives the target miniflow::core.
include(CMakePackageConfigHelpers)

set(MINIFLOW_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/miniflow"
    CACHE STRING "Where the miniflow CMake package configuration is installed")

# Users link miniflow::core, the same name add_subdirectory gives them.
set_target_properties(miniflow_core PROPERTIES EXPORT_NAME core)
install(TARGETS miniflow_core EXPORT miniflowTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
# Every header in cpp/include/miniflow is public API; internal ones live in cpp/src.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/cpp/include/miniflow" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
install(EXPORT miniflowTargets NAMESPACE miniflow:: DESTINATION "${MINIFLOW_INSTALL_CMAKEDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/miniflowConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/miniflowConfig.cmake"
                              INSTALL_DESTINATION "${MINIFLOW_INSTALL_CMAKEDIR}")
# Before 1.0 a minor release may break the API, so only the same major.minor matches.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/miniflowConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/miniflowConfig.cmake"
              "${PROJECT_BINARY_DIR}/miniflowConfigVersion.cmake"
        DESTINATION "${MINIFLOW_INSTALL_CMAKEDIR}")
install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
