# bench/cupti.cmake — the CUPTI record conversion benchmark; included from bench/CMakeLists.txt.
# Run: cupti_convert_bench [records] [kernels per step] [trace path]
if(TARGET gp_cupti_core)
  add_executable(cupti_convert_bench ${CMAKE_CURRENT_LIST_DIR}/cupti_convert_bench.c)
  target_link_libraries(cupti_convert_bench PRIVATE gp_cupti_core)
  target_compile_options(cupti_convert_bench PRIVATE -O2)
endif()
