"""samples/vmm (PyTorch expandable-segments style VMM through cudaGetDriverEntryPointByVersion)
under libgpuprof.so: the program is unchanged, and the report's physical, address-range and
mapping numbers are exactly the ones documented at the top of samples/vmm.c."""
from e2e import check, equal, finish, report, report_json, run_sample, site_functions, unchanged

plain, _ = run_sample("vmm", preload=False)
traced, trace = run_sample("vmm")
unchanged(plain, traced, "vmm")
check(trace is not None, "a trace file was written")

j = report_json(trace)
mem = j["memory"]
kinds = {k: (v["peak_bytes"], v["leaked_bytes"], v["leaked_count"]) for k, v in mem["by_kind"].items()}
MIB = 1 << 20
equal(kinds["physical"], (100 * MIB, 20 * MIB, 1), "physical: peak 5 x 20 MiB, one page held at exit")
equal(kinds["address_range"], (1 << 30, 1 << 30, 1), "address range: 1 GiB reserved, never freed")
equal(kinds["mapping"], (100 * MIB, 20 * MIB, 1), "mapped: 5 pages at the peak, page 0 at exit")
equal(mem["peak_reserved_bytes"], 100 * MIB, "device peak (physical memory counts as device)")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in mem["top_sites_at_peak"]],
      [("grow_segment", 100 * MIB, 5)], "sites at the peak")
equal([(site_functions(s)[0], s["bytes"], s["count"]) for s in mem["by_kind"]["physical"]["leaked_sites"]],
      [("grow_segment", 20 * MIB, 1)], "physical memory held at exit")
equal(j["events"]["allocs_by_kind"]["physical"], 5, "cuMemCreate calls")
equal(j["events"]["allocs_by_kind"]["mapping"], 5, "cuMemMap calls")
equal(j["events"]["allocs_by_kind"]["address_range"], 1, "cuMemAddressReserve calls")
equal(j["events"]["frees"], 8, "4 cuMemUnmap + 4 cuMemRelease")
ev = j["events"]
equal((ev["runtime_allocs"], ev["driver_allocs"], ev["driver_only"]), (0, 11, True),
      "allocations by layer: 5 cuMemCreate + 5 cuMemMap + 1 cuMemAddressReserve, none through cuda*")
check("every allocation was seen at the driver layer" in report(trace).stdout,
      "the text report says runtime-level detail is missing")
finish()
