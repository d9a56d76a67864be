# Third-party libraries, all from Debian packages (README's install command lists them).
find_package(PkgConfig REQUIRED)
find_package(OpenMP REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(dnnl REQUIRED)
# cpp-httplib (Debian builds it as a shared library): the CLI's `serve` only, not the library.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_library(slim_deps INTERFACE)
target_link_libraries(slim_deps INTERFACE
  OpenMP::OpenMP_CXX nlohmann_json::nlohmann_json PkgConfig::UTF8PROC PkgConfig::PCRE2 DNNL::dnnl)
