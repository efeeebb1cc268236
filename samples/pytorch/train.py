"""train.py: a small PyTorch training loop on synthetic data, for tools/gpu-check. It prints its
own ground truth as one JSON line on stdout: PyTorch's torch.cuda.max_memory_allocated() and
max_memory_reserved() and the step time, to compare with what gpuprof records of the same run.

Model: an MLP of --layers Linear layers (--features -> --hidden ... -> --classes, ReLU between),
AdamW, cross-entropy on random inputs and labels made on the device each step (seeded). A step is
forward, backward, optimizer step; each is timed between two torch.cuda.synchronize() calls, and
the first --warmup steps are left out of the step time (median and mean of the rest).

  --amp                  autocast to float16 with a GradScaler (classic mixed precision): the
                         Linear layers' GEMMs run in fp16 (Tensor Cores)
  --tf32                 torch.backends.cuda.matmul.allow_tf32 = True; without it the setting
                         is left as PyTorch has it (False by default: fp32 GEMMs without
                         --amp then run on CUDA cores). The JSON line says which ("matmul_tf32")
  --expandable-segments  PYTORCH_CUDA_ALLOC_CONF gets expandable_segments:True (set before
                         torch is imported): memory comes from cuMemCreate/cuMemMap
  --nvtx                 each step inside torch.cuda.nvtx range "step", its forward pass inside
                         a nested range "forward" (counts in the JSON line: "nvtx_ranges")
  --profiler             the steps run inside torch.profiler.profile(activities=[CPU, CUDA])
                         (the overhead comparison: step time under another profiler)
  --oom                  one step at a batch size whose first activation alone needs 1.25x
                         the device's total memory (oom_batch()): the forward pass runs out of
                         memory.

An out-of-memory error (with --oom, or a --batch-size too large) prints the JSON line with
"oom": true and the error's first line, then is raised again: the script dies of it as a
training script would (an uncaught torch.cuda.OutOfMemoryError, exit status 1).

Exit status: 0 after a normal run, 1 after an out-of-memory error, 2 when PyTorch or a GPU is
missing, or --oom did not run out of memory."""
import argparse
import json
import os
import statistics
import sys
import time


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5, help="steps left out of the step time")
    p.add_argument("--features", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=4096)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--amp", action="store_true", help="float16 autocast + GradScaler")
    p.add_argument("--tf32", action="store_true", help="allow TF32 in fp32 matrix products")
    p.add_argument("--expandable-segments", action="store_true",
                   help="PyTorch's expandable segments (cuMemCreate/cuMemMap)")
    p.add_argument("--nvtx", action="store_true", help="NVTX ranges 'step' and 'forward'")
    p.add_argument("--profiler", action="store_true",
                   help="run the steps under torch.profiler (CPU and CUDA activities)")
    p.add_argument("--oom", action="store_true", help="run out of device memory on purpose")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.steps < 1 or args.layers < 2 or args.batch_size < 1 or args.warmup < 0:
        p.error("need --steps >= 1, --layers >= 2, --batch-size >= 1, --warmup >= 0")
    return args


def oom_batch(total_memory, hidden):
    """The batch size of --oom: the first Linear's output (batch x hidden floats) alone needs
    1.25x the device's total memory."""
    return -(-total_memory * 5 // (4 * hidden * 4))


def build_model(torch, args):
    widths = [args.features] + [args.hidden] * (args.layers - 1) + [args.classes]
    layers = []
    for i in range(args.layers):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < args.layers - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).cuda()


def expandable_in_snapshot(torch):
    """Whether the caching allocator's segments are expandable ones (the setting took effect)."""
    try:
        return any(s.get("is_expandable", False) for s in torch.cuda.memory_snapshot())
    except Exception:  # an older or newer snapshot layout: unknown
        return None


class Ranges:
    """torch.cuda.nvtx ranges when --nvtx, else nothing; counts the ranges it opened."""

    def __init__(self, torch, on):
        self.nvtx = torch.cuda.nvtx if on else None
        self.counts = {}

    def push(self, name):
        if self.nvtx is not None:
            self.nvtx.range_push(name)
            self.counts[name] = self.counts.get(name, 0) + 1

    def pop(self):
        if self.nvtx is not None:
            self.nvtx.range_pop()


def profiler_context(torch, on):
    """torch.profiler with CPU and CUDA activities when `on`, else a context that does
    nothing."""
    import contextlib
    if not on:
        return contextlib.nullcontext()
    from torch.profiler import ProfilerActivity, profile
    return profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])


def main(argv):
    args = parse_args(argv)
    if args.expandable_segments:
        conf = os.environ.get("PYTORCH_CUDA_ALLOC_CONF", "")
        os.environ["PYTORCH_CUDA_ALLOC_CONF"] = ",".join(
            c for c in (conf, "expandable_segments:True") if c)
    try:
        import torch
    except ImportError as e:
        print(f"train.py: PyTorch is not installed: {e}", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("train.py: PyTorch sees no CUDA device", file=sys.stderr)
        return 2

    torch.manual_seed(args.seed)
    if args.tf32:
        torch.backends.cuda.matmul.allow_tf32 = True
    props = torch.cuda.get_device_properties(0)
    truth = {
        "sample": "train", "torch": torch.__version__, "cuda": torch.version.cuda,
        "device": props.name, "total_memory": props.total_memory,
        "batch_size": args.batch_size, "steps": args.steps, "amp": args.amp,
        "amp_dtype": "float16" if args.amp else None,
        "matmul_tf32": bool(torch.backends.cuda.matmul.allow_tf32),
        "expandable_segments": args.expandable_segments, "profiler": args.profiler,
        "alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF", ""),
    }
    model = build_model(torch, args)
    truth["params"] = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=args.amp)
    loss_fn = torch.nn.CrossEntropyLoss()
    ranges = Ranges(torch, args.nvtx)

    batch = args.batch_size
    if args.oom:
        batch = oom_batch(props.total_memory, args.hidden)
        truth["batch_size"] = batch
        truth["failed_tensor_bytes"] = batch * args.hidden * 4

    def step():
        ranges.push("step")
        x = torch.randn(batch, args.features, device="cuda")
        y = torch.randint(0, args.classes, (batch,), device="cuda")
        ranges.push("forward")
        with torch.autocast("cuda", dtype=torch.float16, enabled=args.amp):
            loss = loss_fn(model(x), y)
        ranges.pop()
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        ranges.pop()
        return loss

    times_ms = []
    losses = []
    try:
        with profiler_context(torch, args.profiler):
            for _ in range(1 if args.oom else args.steps):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                loss = step()
                torch.cuda.synchronize()
                times_ms.append((time.perf_counter() - t0) * 1e3)
                losses.append(float(loss))
    except torch.cuda.OutOfMemoryError as e:
        truth.update(oom=True, error=str(e).splitlines()[0][:300],
                     max_memory_allocated=torch.cuda.max_memory_allocated(),
                     max_memory_reserved=torch.cuda.max_memory_reserved())
        print(json.dumps(truth), flush=True)
        raise  # dies of it, as a training script does: gpuprof calls that OOM fatal
    if args.oom:
        truth.update(oom=False, error="no out-of-memory error")
        print(json.dumps(truth), flush=True)
        return 2

    timed = times_ms[args.warmup:] or times_ms
    truth.update(
        oom=False,
        max_memory_allocated=torch.cuda.max_memory_allocated(),
        max_memory_reserved=torch.cuda.max_memory_reserved(),
        memory_reserved_at_end=torch.cuda.memory_reserved(),
        step_time_ms_median=round(statistics.median(timed), 4),
        step_time_ms_mean=round(statistics.fmean(timed), 4),
        steps_timed=len(timed),
        loss_first=round(losses[0], 5), loss_last=round(losses[-1], 5),
        expandable_in_snapshot=expandable_in_snapshot(torch),
        nvtx_ranges=ranges.counts,
    )
    print(json.dumps(truth), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
