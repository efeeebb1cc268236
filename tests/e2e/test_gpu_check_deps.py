"""tools/gpu-check --deps-only: how the kit brings the libraries a bare GPU machine lacks. A
.deb made here (a library with a pkg-config file naming /usr and an absolute -dev symlink, the
way Debian's zlib1g-dev has one, plus a library whose SONAME the system already has) is
unpacked into the build's private prefix: the pkg-config file and the link point into the
prefix, pkg-config finds the library there, and the run-time directory links only the library
the system lacks."""
import os
import shutil
import subprocess
import tempfile

from e2e import check, equal, finish, skip

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for tool in ("dpkg-deb", "gcc", "pkg-config", "readelf"):
    if not shutil.which(tool):
        skip(f"no {tool} here")

d = tempfile.mkdtemp(prefix="gpuprof-gpucheck-deps-")
pkg = os.path.join(d, "pkg")
arch = "x86_64-linux-gnu"
for sub in ("DEBIAN", f"usr/lib/{arch}/pkgconfig", f"lib/{arch}", "usr/include"):
    os.makedirs(os.path.join(pkg, sub))
with open(os.path.join(pkg, "DEBIAN", "control"), "w") as f:
    f.write("Package: gpcheckfoo\nVersion: 1.0\nArchitecture: amd64\nMaintainer: test <t@t>\n"
            "Description: gpu-check test package\n")
src = os.path.join(d, "foo.c")
with open(src, "w") as f:
    f.write("int gpcheckfoo(void) { return 42; }\n")


def shared(path, soname):
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", path, src], check=True)


# the runtime library under /lib, its -dev link in /usr/lib pointing there absolutely
shared(os.path.join(pkg, "lib", arch, "libgpcheckfoo.so.1.0.0"), "libgpcheckfoo.so.1")
os.symlink("libgpcheckfoo.so.1.0.0", os.path.join(pkg, "lib", arch, "libgpcheckfoo.so.1"))
os.symlink(f"/lib/{arch}/libgpcheckfoo.so.1.0.0", os.path.join(pkg, "usr", "lib", arch, "libgpcheckfoo.so"))
# a library whose SONAME every system has: it must not shadow the system's
shared(os.path.join(pkg, "lib", arch, "libc-lookalike.so.9"), "libc.so.6")
with open(os.path.join(pkg, "usr", "include", "gpcheckfoo.h"), "w") as f:
    f.write("int gpcheckfoo(void);\n")
with open(os.path.join(pkg, "usr", "lib", arch, "pkgconfig", "gpcheckfoo.pc"), "w") as f:
    f.write(f"prefix=/usr\nlibdir=/usr/lib/{arch}\nincludedir=${{prefix}}/include\n\n"
            "Name: gpcheckfoo\nDescription: test\nVersion: 1.0\n"
            "Libs: -L${libdir} -lgpcheckfoo\nCflags: -I${includedir}\n")
debs = os.path.join(d, "debs")
os.makedirs(debs)
subprocess.run(["dpkg-deb", "--root-owner-group", "--build", pkg, os.path.join(debs, "gpcheckfoo.deb")],
               check=True, capture_output=True)

build = os.path.join(d, "build")
p = subprocess.run([os.path.join(TOP, "tools", "gpu-check"), "--deps-only", "--force-debs",
                    "--debs", debs, "--build-dir", build], capture_output=True, text=True, timeout=120)
equal(p.returncode, 0, f"gpu-check --deps-only exit status (stderr: {p.stderr.strip()})")
got = dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)
root = os.path.join(os.path.realpath(build), "deps", "root")
check(got.get("PKG_CONFIG_PATH", "").startswith(f"{root}/usr/lib/{arch}/pkgconfig"),
      f"PKG_CONFIG_PATH: {got.get('PKG_CONFIG_PATH')}")
check(got.get("CMAKE_PREFIX_PATH", "").startswith(f"{root}/usr"), f"CMAKE_PREFIX_PATH: {got.get('CMAKE_PREFIX_PATH')}")
check("1 carried .debs unpacked" in got.get("DEPS", ""), f"summary: {got.get('DEPS')}")

with open(os.path.join(root, "usr", "lib", arch, "pkgconfig", "gpcheckfoo.pc")) as f:
    pc = f.read()
check(f"prefix={root}/usr\n" in pc and f"libdir={root}/usr/lib/{arch}\n" in pc, f"pkg-config file rewritten: {pc}")
env = dict(os.environ, PKG_CONFIG_PATH=got.get("PKG_CONFIG_PATH", ""))
flags = subprocess.run(["pkg-config", "--cflags", "--libs", "gpcheckfoo"], env=env,
                       capture_output=True, text=True).stdout.split()
equal(flags, [f"-I{root}/usr/include", f"-L{root}/usr/lib/{arch}", "-lgpcheckfoo"], "pkg-config flags")
link = os.path.join(root, "usr", "lib", arch, "libgpcheckfoo.so")
equal(os.readlink(link), f"{root}/lib/{arch}/libgpcheckfoo.so.1.0.0", "absolute link into the prefix")
check(os.path.exists(link), "the link resolves")

run_lib = got.get("RUN_LD_PATH", "")
equal(run_lib, os.path.join(os.path.realpath(build), "deps", "lib"), "run-time directory")
names = sorted(os.listdir(run_lib)) if os.path.isdir(run_lib) else []
equal(names, ["libgpcheckfoo.so.1"], "run-time directory: only what the system lacks, by SONAME")
finish()
