# bench/trace.cmake — the trace reader/writer benchmark; included from bench/CMakeLists.txt.
# Run: trace_read_bench [events] [path]
add_executable(trace_read_bench ${CMAKE_CURRENT_LIST_DIR}/trace_read_bench.c)
target_link_libraries(trace_read_bench PRIVATE gp_trace)
