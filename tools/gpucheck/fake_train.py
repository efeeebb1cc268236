"""fake_train.py: samples/pytorch/train.py's stand-in for tools/gpu-check --fake. It runs on the
stand-in torch (tests/faketorch, PYTHONPATH) and the fake CUDA runtime, where there are no
models or kernels, only the caching allocator: a "training step" takes --per-sample bytes per
sample (an input of one quarter, then an activation of three quarters: with --oom the
activation is the tensor that does not fit) on top of --fixed bytes of
"weights", then gives them back. It prints train.py's JSON line (the same keys the kit reads:
max_memory_allocated, max_memory_reserved, step time, oom, batch_size, total_memory) and
follows train.py's contract: exit 0, or an out-of-memory error that it prints and then dies of
(exit 1). So the kit's PyTorch checks and the fit procedure run end to end on the stand-ins.

The device's size comes from FAKECUDA_DEVICE_MEM (as the fake runtime reads it)."""
import argparse
import json
import os
import statistics
import sys
import time


def parse_size(text):
    """'1G', '64M', '4096' -> bytes (the fake runtime's FAKECUDA_DEVICE_MEM syntax)."""
    text = text.strip()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if mult > 1 else text) * mult


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--per-sample", type=int, default=64 * 1024)
    p.add_argument("--fixed", type=int, default=32 << 20)
    p.add_argument("--oom", action="store_true", help="a batch needing 1.25x the device")
    return p.parse_args(argv)


def oom_batch(total, args):
    """The batch size of --oom: its step alone needs 1.25x the device."""
    return -(-total * 5 // (4 * args.per_sample))


def device_total():
    """cudaMemGetInfo through the (fake) runtime, as real PyTorch's torch.cuda.mem_get_info
    does where the stand-in torch does nothing: the trace learns the device's size from it,
    which `gpuprof-report fit` needs. The total, or None."""
    import ctypes
    try:
        rt = ctypes.CDLL("libcudart.so.13")
    except OSError:
        return None
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    return total.value if rt.cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total)) == 0 else None


def main(argv):
    args = parse_args(argv)
    import torch
    total = parse_size(os.environ.get("FAKECUDA_DEVICE_MEM", "16G"))
    batch = oom_batch(total, args) if args.oom else args.batch_size
    truth = {"sample": "train", "torch": torch.__version__, "cuda": None,
             "device": "gpuprof fake device", "total_memory": total, "batch_size": batch,
             "steps": args.steps, "amp": False, "matmul_tf32": False, "stand_in": True}
    weights = torch.empty(args.fixed, dtype=torch.uint8, device="cuda")
    device_total()
    times_ms = []
    try:
        for _ in range(1 if args.oom else args.steps):
            t0 = time.perf_counter()
            x = torch.empty(batch * args.per_sample // 4, dtype=torch.uint8, device="cuda")
            h = torch.empty(batch * args.per_sample * 3 // 4, dtype=torch.uint8, device="cuda")
            del x, h
            times_ms.append((time.perf_counter() - t0) * 1e3)
    except torch.cuda.OutOfMemoryError as e:
        truth.update(oom=True, error=str(e).splitlines()[0][:300],
                     failed_tensor_bytes=batch * args.per_sample * 3 // 4,
                     max_memory_allocated=torch.cuda.max_memory_allocated(),
                     max_memory_reserved=torch.cuda.max_memory_reserved())
        print(json.dumps(truth), flush=True)
        raise
    del weights
    timed = times_ms[args.warmup:] or times_ms
    truth.update(oom=False, max_memory_allocated=torch.cuda.max_memory_allocated(),
                 max_memory_reserved=torch.cuda.max_memory_reserved(),
                 step_time_ms_median=round(statistics.median(timed), 4), nvtx_ranges={})
    print(json.dumps(truth), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
