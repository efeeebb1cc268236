"""gpuprof-report --classify-kernels: names in, one verdict line per name out (exact), from a
file or stdin; a missing file is one line and exit 1; extra arguments are a usage error."""
import os
import subprocess
import tempfile

from e2e import REPORT, check, equal, finish

NAMES = ("ampere_sgemm_128x64_nn\n"
         "nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NTN\n"
         "my\tkernel\x1b[31m\n")
WANT = ("ampere_sgemm_128x64_nn\tcuda-core\tblas-gemm: sgemm without an MMA token: fp32 FFMA GEMM\n"
        "nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NTN\ttensor\tnvjet: cuBLAS nvjet (Hopper/Blackwell "
        "GEMM): Tensor Core (nsys-ai PR #582)\n")

d = tempfile.mkdtemp(prefix="gpuprof-classify-")
path = os.path.join(d, "names.txt")
with open(path, "w") as f:
    f.write(NAMES)
for args, stdin in (([path], None), (["-"], NAMES)):
    r = subprocess.run([REPORT, "--classify-kernels"] + args, input=stdin, capture_output=True,
                       text=True)
    equal(r.returncode, 0, f"exit status ({args})")
    lines = r.stdout.splitlines(keepends=True)
    equal("".join(lines[:2]), WANT, f"first two verdicts ({args})")
    equal(len(lines), 3, f"one line per name ({args})")
    # a tab and an escape sequence in a name never reach the terminal or split the columns
    check(lines[2].count("\t") == 2 and "\x1b" not in lines[2] and "\tunknown\t" in lines[2],
          f"hostile name escaped: {lines[2]!r}")
r = subprocess.run([REPORT, "--classify-kernels", os.path.join(d, "missing")], capture_output=True,
                   text=True)
equal((r.returncode, r.stdout), (1, ""), "missing file")
equal(r.stderr.count("\n"), 1, "one line for a missing file")
r = subprocess.run([REPORT, "--classify-kernels", path, "extra"], capture_output=True, text=True)
equal(r.returncode, 2, "extra argument is a usage error")
finish()
