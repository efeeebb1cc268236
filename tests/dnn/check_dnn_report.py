"""The report's Tensor Core verdicts for cuDNN calls (dnn_sample.c under the shim, on the fake
cuDNN): convolutions decided from their data and math types and channel counts (layer
"asked"), backend plans from the engine's numerical notes (layer "library"). Exact lines.
  check_dnn_report.py REPORT TRACE"""
import json
import subprocess
import sys

WANT = [
    ("cudnnConvolutionForward", "not_allowed", "asked", "fp32", "fp32 with CUDNN_FMA_MATH: TF32 is off"),
    ("cudnnConvolutionForward", "slowed", "asked", "fp16",
     "C = 3 not a multiple of 8 (fp16): Tensor Core convolutions need 16-byte channel multiples "
     "(cuDNN pads or falls back)"),
    ("cudnnConvolutionForward", "allowed", "asked", "bf16", "bf16 inputs (CUDNN_TENSOR_OP_MATH)"),
    ("cudnnConvolutionBackwardData", "allowed", "asked", "fp16", "fp16 inputs (CUDNN_TENSOR_OP_MATH)"),
    ("cudnnConvolutionBackwardFilter", "allowed", "asked", "fp16", "fp16 inputs (CUDNN_TENSOR_OP_MATH)"),
    ("cudnnConvolutionForward", "allowed", "asked", "fp16", "fp16 inputs (CUDNN_DEFAULT_MATH)"),
    ("cudnnConvolutionForward", "allowed", "asked", "fp16", "fp16 inputs (CUDNN_TENSOR_OP_MATH)"),
    ("cudnnConvolutionForward", "allowed", "asked", "tf32", "fp32 with CUDNN_DEFAULT_MATH: cuDNN may use TF32"),
    ("cudnnBackendExecute", "allowed", "library", "unknown",
     "cuDNN chose an engine with the TENSOR_CORE numerical note"),
    ("cudnnBackendExecute", "allowed", "library", "unknown",
     "cuDNN chose an engine with the TENSOR_CORE numerical note"),
    ("cudnnBackendExecute", "not_allowed", "library", "unknown",
     "cuDNN chose an engine without the TENSOR_CORE numerical note"),
]

report, trace = sys.argv[1], sys.argv[2]
doc = json.loads(subprocess.run([report, "--json", trace], capture_output=True, check=True).stdout)
got = [(s["api"], s["verdict"], s["layer"], s["precision"], s["reason"])
       for s in doc["tensor_cores"]["sites"]]
# Sites come most FLOPs first; the order among equal FLOPs is the order of first use.
if sorted(got) != sorted(WANT):
    print("got:\n  " + "\n  ".join(map(repr, got)), file=sys.stderr)
    print("want:\n  " + "\n  ".join(map(repr, WANT)), file=sys.stderr)
    sys.exit(1)
if doc["tensor_cores"]["by_verdict"]["not_allowed"]["calls"] != 2:
    print(f"not_allowed calls: {doc['tensor_cores']['by_verdict']['not_allowed']}", file=sys.stderr)
    sys.exit(1)
text = subprocess.run([report, trace], capture_output=True, check=True, text=True).stdout
if "11 matrix-product and convolution calls" not in text:
    print(f"text summary line missing:\n{text}", file=sys.stderr)
    sys.exit(1)
print("all verdicts as expected")
