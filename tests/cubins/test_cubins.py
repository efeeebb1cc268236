"""Layer 4 of the Tensor Core verdict end to end: tests/cubins/cubin_kernels loads the real
cubins tests/sass compiles with nvcc (tc_kernels: one HMMA, IMMA, DMMA each and a two-HMMA
WMMA tile; cc_kernels: one FFMA) on two devices through the fake libcupti's module-loaded
callback and launches their kernels (times at the top of cubin_kernels.c). Under the shim with
GPUPROF_CUBINS=1 the trace must hold each cubin's bytes exactly once, the other device's loads
as duplicates; the report must disassemble them and give every kernel its exact instruction
counts, which decide the kernel's class before its name in the Tensor Cores section (layer 4
before layer 3), while the layer-4 section keeps its counts only. Also: GPUPROF_CUBINS=0 (the default) records nothing, GPUPROF_CUBINS_MAX stops saving
at its byte count, CUPTI refusing the callback costs one warning, a missing disassembler is one
line, a hung one is killed after GPUPROF_SASS_TIMEOUT, the report's temporary directory is
empty afterwards, and a corrupt CUBIN record fails the report cleanly.
The verdict checks need nvdisasm or cuobjdump (GPUPROF_NVDISASM, PATH, the toolkit): without
one the test exits 77 (skipped) after all the others."""
import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from e2e import FAKE_CUPTI, REPORT, check, equal, failures, report, report_json, run_sample, unchanged  # noqa: E402

PROGRAM = os.environ["GPUPROF_CUBIN_KERNELS"]
CUBINS = os.environ["GPUPROF_TEST_CUBINS"].split(":")
TC, CC = (open(p, "rb").read() for p in CUBINS)
CHUNK = 65536
LAYER4_MISSING = "layer 4 skipped: no nvdisasm; pip install nvidia-cuda-nvdisasm"

# kernel, calls, GPU time (ns), verdict: cubin_kernels.c and tests/sass/*.cu
KERNELS = [
    ("tc_mma_f16", 3, 12000, "tensor", "tensor (HMMA x 1)"),
    ("tc_wmma_f16", 2, 10000, "tensor", "tensor (HMMA x 2)"),
    ("tc_mma_s8", 1, 3000, "tensor", "tensor (IMMA x 1)"),
    ("tc_mma_f64", 1, 2500, "tensor", "tensor (DMMA x 1)"),
    ("cc_axpy", 4, 2000, "cuda-core", "cuda-core (FFMA x 1)"),
]


def fnv1a(data):
    """64-bit FNV-1a, the content hash of docs/trace-format.md §3.5.4."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def records(data):
    """(type, offset of the type byte, payload start, payload end) of each record of a
    decompressed trace."""
    i = 8
    _, i = varint(data, i)  # version
    while i < len(data):
        n, j = varint(data, i + 1)
        yield data[i], i, j, j + n
        i = j + n


def cubin_fields(data, start):
    """A CUBIN payload's six fields and where its bytes start."""
    f, k = [], start
    for _ in range(6):
        v, k = varint(data, k)
        f.append(v)
    return f, k


def cubin_records(trace):
    """Every CUBIN record of a trace as (state, module, hash, size, offset, bytes)."""
    data = gzip.open(trace).read()
    out = []
    for rtype, _, start, _end in records(data):
        if rtype == 0x19:
            f, k = cubin_fields(data, start)
            out.append((f[0], f[1], f[2], f[3], f[4], data[k:k + f[5]]))
    return out


def run(env, args=CUBINS):
    """cubin_kernels under the shim on the fake libcupti; (process, trace)."""
    e = {"FAKECUPTI_PATH": FAKE_CUPTI, **env}
    return run_sample(os.path.basename(PROGRAM), list(args), env=e, directory=os.path.dirname(PROGRAM))


def report_env(trace, env, *args, expect_rc=0):
    """gpuprof-report with extra environment (the disassembler, TMPDIR, the time limit)."""
    p = subprocess.run([REPORT, *args, trace], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **env})
    equal(p.returncode, expect_rc, f"gpuprof-report {' '.join(args)} {env} (stderr: {p.stderr.strip()})")
    return p


def find_tool():
    """The disassembler the report will use, as far as this test can tell (None: none)."""
    env = os.environ.get("GPUPROF_NVDISASM")
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ("nvdisasm", "cuobjdump"):
        for p in (shutil.which(name), f"/usr/local/cuda/bin/{name}"):
            if p and os.access(p, os.X_OK):
                return p
    return None


def json_of(p):
    return json.loads(p.stdout)


if not FAKE_CUPTI:
    print("SKIPPED: built without the CUPTI headers (no fake libcupti)")
    sys.exit(0)

# ---- off by default: no CUBIN record, nothing in the report ----------------------------------
p_off, trace_off = run({})
equal(cubin_records(trace_off), [], "GPUPROF_CUBINS unset: CUBIN records")
j = report_json(trace_off)
equal(j["cubins"], None, "GPUPROF_CUBINS unset: JSON cubins")
check("layer 4" not in report(trace_off).stdout, "GPUPROF_CUBINS unset: no layer-4 text")
_, trace_zero = run({"GPUPROF_CUBINS": "0"})
equal(cubin_records(trace_zero), [], "GPUPROF_CUBINS=0: CUBIN records")

# ---- on: each cubin once, the second device's loads as duplicates ------------------------------
bare = subprocess.run([PROGRAM, *CUBINS], capture_output=True, text=True, timeout=60,
                      env={"LD_LIBRARY_PATH": os.environ["GPUPROF_FAKECUDA_DIR"],
                           "FAKECUPTI_PATH": FAKE_CUPTI, "PATH": os.environ.get("PATH", "")})
p_on, trace = run({"GPUPROF_CUBINS": "1"})
unchanged(bare, p_on, "GPUPROF_CUBINS=1")
equal(p_on.stdout, "cubin_kernels: 4 modules loaded, 12 kernels described\n", "program output")
recs = cubin_records(trace)
saved = [r for r in recs if r[0] == 0]
for name, blob, module in (("tc_kernels", TC, 1), ("cc_kernels", CC, 2)):
    mine = [r for r in saved if r[1] == module]
    equal([r[4] for r in mine], list(range(0, len(blob), CHUNK)), f"{name}: chunk offsets")
    check(all(len(r[5]) <= CHUNK for r in mine), f"{name}: chunks at most {CHUNK} bytes")
    equal(b"".join(r[5] for r in mine), blob, f"{name}: bytes in the trace")
    equal({(r[2], r[3]) for r in mine}, {(fnv1a(blob), len(blob))}, f"{name}: hash and size")
equal(len(saved), len(range(0, len(TC), CHUNK)) + len(range(0, len(CC), CHUNK)),
      "saved chunks: only modules 1 and 2")
equal([r[:5] for r in recs if r[0] != 0],
      [(1, 3, fnv1a(TC), len(TC), 0), (1, 4, fnv1a(CC), len(CC), 0)],
      "device 1's loads: duplicates without bytes")

# ---- no disassembler: one line ------------------------------------------------------------------
p = report_env(trace, {"GPUPROF_NVDISASM": "/nonexistent/nvdisasm"})
check(f"\n  {LAYER4_MISSING}\n" in p.stdout, f"no disassembler: the one line (got {p.stdout[-400:]!r})")
c = json_of(report_env(trace, {"GPUPROF_NVDISASM": "/nonexistent/nvdisasm"}, "--json"))["cubins"]
equal((c["status"], c["message"], c["modules"], c["saved"], c["saved_bytes"], c["duplicates"],
       c["kernel_names"], c["kernels"]),
      ("no-disassembler", LAYER4_MISSING, 4, 2, len(TC) + len(CC), 2, 6, []), "no disassembler: JSON")

# ---- GPUPROF_CUBINS_MAX: tc_kernels fits exactly, cc_kernels does not ---------------------------
_, trace_cap = run({"GPUPROF_CUBINS": "1", "GPUPROF_CUBINS_MAX": str(len(TC))})
recs = cubin_records(trace_cap)
equal(b"".join(r[5] for r in recs if r[0] == 0), TC, "cap: only tc_kernels saved")
equal([r[:5] for r in recs if r[0] != 0],
      [(2, 2, fnv1a(CC), len(CC), 0), (1, 3, fnv1a(TC), len(TC), 0), (1, 4, fnv1a(CC), len(CC), 0)],
      "cap: cc_kernels over the cap once, then both duplicates")
c = json_of(report_env(trace_cap, {"GPUPROF_NVDISASM": "/nonexistent/nvdisasm"}, "--json"))["cubins"]
equal((c["saved"], c["saved_bytes"], c["over_cap"], c["over_cap_bytes"], c["duplicates"]),
      (1, len(TC), 1, len(CC), 2), "cap: JSON counts")

# ---- CUPTI refuses the callback: one warning, the program and memory tracing go on -------------
p_ref, trace_ref = run({"GPUPROF_CUBINS": "1", "FAKECUPTI_CALLBACK_FAIL": "1"})
warn = unchanged(bare, p_ref, "callback refused", warnings=1)
equal(warn, ["gpuprof: GPUPROF_CUBINS=1 but CUPTI refused the module-loaded callback "
             "(CUPTI_ERROR_NOT_COMPATIBLE): cubins are not saved"], "callback refused: warning")
equal(cubin_records(trace_ref), [], "callback refused: CUBIN records")
equal(report_json(trace_ref)["kernels"]["count"], 12, "callback refused: kernels still recorded")

# ---- a hung disassembler is killed after GPUPROF_SASS_TIMEOUT -----------------------------------
work = tempfile.mkdtemp(prefix="gpuprof-cubins-test-")
slow = os.path.join(work, "slow_nvdisasm")
with open(slow, "w") as f:
    f.write("#!/bin/sh\nexec sleep 60\n")
os.chmod(slow, stat.S_IRWXU)
t0 = time.monotonic()
c = json_of(report_env(trace, {"GPUPROF_NVDISASM": slow, "GPUPROF_SASS_TIMEOUT": "1"}, "--json"))["cubins"]
took = time.monotonic() - t0
equal((c["status"], c["disassembled"], c["failed"], c["timed_out"], c["first_error"], c["kernels"]),
      ("done", 0, 2, 2, "slow_nvdisasm took longer than 1 s (GPUPROF_SASS_TIMEOUT): killed", []),
      "hung disassembler")
check(took < 20, f"hung disassembler: the report took {took:.1f} s for two 1 s limits")

# ---- a cubin of several chunks, through the shim and back out of the report byte for byte ------
big = bytes((i * 7 + i // 251) & 0xFF for i in range(200000))  # not a real cubin: 4 chunks
big_path = os.path.join(work, "big.cubin")
with open(big_path, "wb") as f:
    f.write(big)
_, trace_big = run({"GPUPROF_CUBINS": "1"}, args=[*CUBINS, big_path])
recs = cubin_records(trace_big)
equal([(r[1], r[4], len(r[5])) for r in recs if r[0] == 0 and r[1] == 3],
      [(3, 0, CHUNK), (3, CHUNK, CHUNK), (3, 2 * CHUNK, CHUNK), (3, 3 * CHUNK, 200000 - 3 * CHUNK)],
      "big cubin: four chunks in order")
equal(b"".join(r[5] for r in recs if r[0] == 0 and r[1] == 3), big, "big cubin: bytes in the trace")
# a "disassembler" that keeps a copy of what it was given and lists nothing
copies = os.path.join(work, "copies")
os.mkdir(copies)
copier = os.path.join(work, "copy_nvdisasm")
with open(copier, "w") as f:
    f.write('#!/bin/sh\nexec cp "$2" "$CUBIN_COPIES/"\n')
os.chmod(copier, stat.S_IRWXU)
c = json_of(report_env(trace_big, {"GPUPROF_NVDISASM": copier, "CUBIN_COPIES": copies}, "--json"))["cubins"]
equal((c["modules"], c["saved"], c["saved_bytes"], c["duplicates"], c["disassembled"], c["failed"]),
      (6, 3, len(TC) + len(CC) + len(big), 3, 3, 0), "big cubin: report counts")
got = {}
for name in os.listdir(copies):
    with open(os.path.join(copies, name), "rb") as f:
        got[name] = f.read()
equal(got == {"0.cubin": TC, "1.cubin": CC, "2.cubin": big}, True,
      f"big cubin: the files the disassembler got ({sorted((k, len(v)) for k, v in got.items())})")

# ---- a corrupt CUBIN record: the report fails with the reader's message -------------------------
data = bytearray(gzip.open(trace).read())
first, start = next((off, start) for rtype, off, start, _ in records(data) if rtype == 0x19)
f, k = cubin_fields(data, start)
equal(f[:2] + f[3:], [0, 1, len(TC), 0, len(TC)], "corrupt: the first CUBIN record is all of tc_kernels")
data[k - 1] = 0x7F  # the length's last byte: far more than the cubin's size
bad = os.path.join(work, "bad.gz")
with gzip.open(bad, "wb") as g:
    g.write(bytes(data))
p = report(bad, expect_rc=1)
equal(p.stderr, f"gpuprof-report: {bad}: corrupt trace: CUBIN record at offset {first}: "
      "chunk outside its cubin\n", "corrupt CUBIN record: message")

# ---- the verdicts, with a real disassembler -----------------------------------------------------
tool = find_tool()
if tool is None:
    shutil.rmtree(work)
    if failures:
        print(f"{len(failures)} expectation(s) failed", file=sys.stderr)
        sys.exit(1)
    print("SKIPPED (verdicts): no nvdisasm or cuobjdump (pip install nvidia-cuda-nvdisasm; GPUPROF_NVDISASM=FILE)")
    sys.exit(77)
tmp = os.path.join(work, "tmp")
os.mkdir(tmp)
p = report_env(trace, {"TMPDIR": tmp, "GPUPROF_NVDISASM": tool}, "--json")
equal(os.listdir(tmp), [], "the report's temporary directory is gone")
c = json_of(p)["cubins"]
equal((c["status"], c["message"], c["tool"], c["modules"], c["saved"], c["duplicates"],
       c["incomplete"], c["disassembled"], c["failed"], c["kernel_names"]),
      ("done", None, tool, 4, 2, 2, 0, 2, 0, 6), "verdicts: counts")
equal([(k["mangled"], k["calls"], k["time_ns"], k["class"], k["verdict"], k["layer"], k["cubins"])
       for k in c["kernels"]],
      [(n, calls, ns, cls, v, "machine code", 1) for n, calls, ns, cls, v in KERNELS],
      "verdicts: per kernel (relu_kernel is in no cubin)")
# layer 4 decides before layer 3: every kernel in the Tensor Cores section with its machine
# code's verdict (only tc_wmma_f16 has a name the table knows), the answer from those classes
tc = json_of(report_env(trace, {"GPUPROF_NVDISASM": tool}, "--json"))["tensor_cores"]
equal([(k["mangled"], k["verdict"], k["layer"], k["reason"], k["name_verdict"], k["calls"], k["time_ns"])
       for k in tc["kernels"]["list"]],
      [(n, cls, "machine code", v, "tensor" if n == "tc_wmma_f16" else "unknown", calls, ns)
       for n, calls, ns, cls, v in KERNELS], "verdicts: tensor_cores.kernels.list")
equal((tc["kernels"]["layer"], tc["kernels"]["machine_code_kernels"], tc["time_source"],
       tc["gemm_time_ns"], tc["tc_time_ns"], tc["by_name"]["gemm_time_ns"], tc["by_name"]["tc_time_ns"]),
      ("machine code, else kernel name", 5, "kernel names", 29500, 27500, 10000, 10000),
      "verdicts: tensor_cores totals (by_name keeps the names' answer)")
equal(tc["headline"], "Tensor Cores: 93% of matrix-product GPU time; 7% on CUDA cores (every "
      "GEMM/conv kernel of the run; none tied to a library call)", "verdicts: headline")
text = report_env(trace, {"GPUPROF_NVDISASM": tool}).stdout
section = text[text.index("Tensor Cores by kernel"):]
equal(section.splitlines()[:15], [
    "Tensor Cores by kernel (layer 4: machine code where a saved cubin has the kernel, else "
    "layer 3: its name)",
    "  Tensor Cores: 93% of matrix-product GPU time; 7% on CUDA cores (every GEMM/conv kernel "
    "of the run; none tied to a library call)",
    "  GEMM/conv kernels: 0.000029 s of GPU time, 93.2% on Tensor Core kernels (0.000027 s), "
    "6.8% on CUDA-core kernels (0.000002 s)",
    "  other kernels (not classified by name or machine code): 0.000001 s",
    "  by name alone (layer 3): 0.000010 s of GEMM/conv kernels, 100.0% on Tensor Core kernels; "
    "the machine code decided 5 kernels",
    "    tensor    0.000012 s, 3 calls  tc_mma_f16",
    "      why (layer machine code): tensor (HMMA x 1); its name says unknown (none)",
    "    tensor    0.000010 s, 2 calls  tc_wmma_f16",
    "      why (layer machine code): tensor (HMMA x 2); its name says tensor (wmma)",
    "    tensor    0.000003 s, 1 call  tc_mma_s8",
    "      why (layer machine code): tensor (IMMA x 1); its name says unknown (none)",
    "    tensor    0.000002 s, 1 call  tc_mma_f64",
    "      why (layer machine code): tensor (DMMA x 1); its name says unknown (none)",
    "    cuda-core 0.000002 s, 4 calls  cc_axpy",
    "      why (layer machine code): cuda-core (FFMA x 1); its name says unknown (none)",
], "verdicts: the Tensor Cores section")
section = text[text.index("Tensor Cores (layer 4"):]
equal(section.splitlines()[:6], [
    "Tensor Cores (layer 4: the kernels' machine code)",
    f"  modules loaded: 4; cubins saved: 2 ({(len(TC) + len(CC)) / 1024:.2f} KiB), 2 the same code again",
    f"  disassembled 2 of 2 cubins with {tool}",
    "  kernels that ran: 6, found in the cubins: 5",
    '  the machine code decided 5 kernels: see the Tensor Cores section above (--json lists every '
    'kernel found under "cubins")',
], "verdicts: text (counts only; the verdicts are in the Tensor Cores section)")
check("tc_mma_f16" not in section[section.index("Tensor Cores (layer 4"):], "verdicts: no second list")
# with the cap, cc_axpy has no cubin and so no layer-4 verdict
c = json_of(report_env(trace_cap, {"GPUPROF_NVDISASM": tool}, "--json"))["cubins"]
equal([k["mangled"] for k in c["kernels"]], [k[0] for k in KERNELS[:4]], "cap: verdicts")
shutil.rmtree(work)
if failures:
    print(f"{len(failures)} expectation(s) failed", file=sys.stderr)
    sys.exit(1)
print("all expectations met")
