"""The run's environment: the shim records the CUDA driver and runtime versions and each
GPU (INFO records), the report prints them, and warns when the driver is older than the
program's runtime (the fake driver is told to answer an older version)."""
from e2e import check, equal, finish, report, report_json, run_sample

env = {"FAKECUDA_DEVICES": "2", "FAKECUDA_DEVICE_MEM": "8G", "GPUPROF_KERNELS": "0"}
proc, trace = run_sample("alloc_pattern", env=env)
equal(proc.returncode, 0, "alloc_pattern exit status")
e = report_json(trace)["environment"]
equal(e["cuda_driver_version"], "13.0", "driver version")
equal(e["cuda_runtime_version"], "13.0", "runtime version")
equal([(g["index"], g["name"], g["memory_bytes"], g["compute_capability"]) for g in e["gpus"]],
      [(0, "gpuprof fake device", 8 << 30, "9.0"), (1, "gpuprof fake device", 8 << 30, "9.0")],
      "GPUs")
equal(e["driver_warning"], None, "no warning when the driver is new enough")
equal(e["cublas_version"], None, "no cuBLAS loaded")
equal(e["torch_version"], None, "no PyTorch")
text = report(trace).stdout
check("CUDA driver supports 13.0, runtime 13.0" in text, "text names the versions")
check("GPU 1: gpuprof fake device, 8.00 GiB, compute capability 9.0" in text, "text names GPU 1")
check("WARNING" not in text, "no driver warning in text")

# A driver for CUDA 12.4 under a CUDA 13.0 runtime: the program runs on the stand-in (which
# does not enforce it), and the report says what a real machine would do.
env["FAKECUDA_DRIVER_VERSION"] = "12040"
proc, trace = run_sample("alloc_pattern", env=env)
e = report_json(trace)["environment"]
equal(e["cuda_driver_version"], "12.4", "old driver version")
equal(e["driver_warning"],
      "the NVIDIA driver supports CUDA 12.4 but the program's CUDA runtime is 13.0: CUDA calls "
      "fail (cudaErrorInsufficientDriver); install a driver for CUDA 13 or newer, or a "
      "PyTorch/CUDA build for CUDA 12", "driver warning")
check("WARNING: the NVIDIA driver supports CUDA 12.4" in report(trace).stdout, "text warning")
finish()
