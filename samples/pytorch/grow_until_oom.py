"""grow_until_oom.py: a loop whose activations grow by half each step until the GPU runs out of
memory, the way a too-large batch dies. Uses only the public PyTorch API, so it runs on a real
GPU and, for tools/demo.sh on a machine without one, on the test stand-in torch
(tests/faketorch) over the simulated device. It dies of torch.cuda.OutOfMemoryError like a
training script would; run it under gpuprof to get the OOM's forensics."""
import torch


def main():
    keep = []  # "activations" kept for a backward pass that never comes
    size = 1 << 20
    while True:
        keep.append(torch.empty(size, dtype=torch.uint8, device="cuda"))
        size = size * 3 // 2


if __name__ == "__main__":
    main()
