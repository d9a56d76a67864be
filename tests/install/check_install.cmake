# cmake -P script run by the install_consumer test (tests/install/CMakeLists.txt gives the variables).
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

# The consumer's line: the model's hidden size (16) and the cosine of the two sentences, which
# `slimformer embed` gives as 0.926605 (checked with Python on its JSON lines).
function(check_line what line)
  if(NOT line MATCHES "^dim 16 cosine (-?[0-9]+\\.[0-9]+)\n$")
    message(FATAL_ERROR "${what}: unexpected output '${line}'")
  endif()
  if(CMAKE_MATCH_1 LESS 0.9265 OR CMAKE_MATCH_1 GREATER 0.9267)
    message(FATAL_ERROR "${what}: cosine ${CMAKE_MATCH_1}, expected 0.926605")
  endif()
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/slimformer/encoder.h include/slimformer/tensor.h bin/slimformer
          lib/cmake/slimformer/slimformerConfig.cmake lib/cmake/slimformer/slimformerConfigVersion.cmake
          lib/pkgconfig/slimformer.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()
file(GLOB lib "${prefix}/lib*/libslimformer.a" "${prefix}/lib*/*/libslimformer.a")
if(NOT lib)
  message(FATAL_ERROR "libslimformer.a not installed under ${prefix}")
endif()
run("installed slimformer --version" "${prefix}/bin/slimformer" --version)

# find_package(slimformer) against the prefix.
run("consumer configure" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/cmake-build"
    -G "${GENERATOR}" -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix})
run("consumer build" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
run("consumer (find_package)" "${WORK_DIR}/cmake-build/consumer" "${MODEL_DIR}")
set(cmake_line "${run_out}")
check_line("consumer (find_package)" "${cmake_line}")

# pkg-config --cflags --libs --static slimformer, then a plain compiler command line.
file(GLOB pc_dirs "${prefix}/lib*/pkgconfig" "${prefix}/lib*/*/pkgconfig")
list(JOIN pc_dirs ":" pc_path)
set(ENV{PKG_CONFIG_PATH} "${pc_path}")
run("pkg-config" "${PKG_CONFIG}" --cflags --libs --static slimformer)
string(STRIP "${run_out}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
# -std=c++17: the public headers' standard (docs/library.md); clang 14 would default to C++14.
run("consumer build (pkg-config)" "${CXX}" -std=c++17 -O1 "${CONSUMER_DIR}/main.cc" -o "${WORK_DIR}/consumer-pc" ${flags})
run("consumer (pkg-config)" "${WORK_DIR}/consumer-pc" "${MODEL_DIR}")
check_line("consumer (pkg-config)" "${run_out}")
if(NOT run_out STREQUAL cmake_line)
  message(FATAL_ERROR "the two consumers disagree: '${cmake_line}' vs '${run_out}'")
endif()
message(STATUS "install_consumer: ${cmake_line}")
