"""Constants shared by several layers, declared once (importing this module imports nothing heavy).

Example:
    >>> MAX_DROPOUT
    0.9
"""

from __future__ import annotations

#: the largest dropout rate any option accepts (at 1.0 every dropout view would be all zeros)
MAX_DROPOUT = 0.9

#: numeric precisions of training and inference: fp32, or bf16 / fp16 autocast (fp16 needs CUDA)
PRECISIONS = ("fp32", "bf16", "fp16")

#: tokens per sentence when neither the user nor the model folder says (Su's SimCSE recipe)
DEFAULT_MAX_LEN = 64

#: training files larger than this are streamed (read lazily, not held in memory) unless the user says
#: otherwise with --streaming / --no-streaming: 1 GiB of text is about 10-20M short sentences, whose rows
#: and token ids in memory would take several times that
STREAMING_AUTO_BYTES = 1 << 30
