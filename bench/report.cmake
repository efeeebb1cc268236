# bench/report.cmake — the trace generator of bench/report_memory.sh; included from
# bench/CMakeLists.txt. Run: report_kernels_gen N PATH
add_executable(report_kernels_gen ${CMAKE_CURRENT_LIST_DIR}/report_kernels_gen.c)
target_link_libraries(report_kernels_gen PRIVATE gp_trace)
target_compile_options(report_kernels_gen PRIVATE -O2)
