# Included by the top-level CMakeLists.txt when MMX_FUZZ is ON, before the libraries: every
# object gets libFuzzer's coverage hooks plus ASan/UBSan, so the fuzzers see into the parsers.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "MMX_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                    -fno-omit-frame-pointer -g)
add_link_options(-fsanitize=address,undefined)
