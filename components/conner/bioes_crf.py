"""A linear-chain CRF over BIOES tags in pure PyTorch (pytorch-crf underneath).

Viterbi decoding is always restricted to legal BIOES sequences. In training
(the likelihood and its partition function) the restriction is a choice,
``transitions``:

* ``"constrained"``: illegal moves are forbidden in the likelihood too, so
  the transitions alone tell B, I, E and S apart and the emission scores
  never have to;
* ``"learned"``: the likelihood ranges over all tag sequences with free,
  trainable transitions, as in the ConNER reference implementation; the
  emissions must then carry the BIOES distinction themselves, which is what
  the span distributions of translation consistency read.

No spaCy or Thinc here: :mod:`conner.crf` wraps the module for Thinc.
"""
from typing import Optional

import torch
from torchcrf import CRF

from .tags import TagSet

TRANSITION_MODES = ("constrained", "learned")

# Added to the scores of illegal moves. Finite rather than -inf so that padded
# positions (multiplied by a zero mask inside pytorch-crf) never produce NaN;
# no emission score comes near it, so Viterbi never picks an illegal move.
ILLEGAL = -1e4


class ConstrainedCRF(CRF):
    """pytorch-crf's CRF whose decoding is restricted to legal BIOES sequences.

    pytorch-crf reads ``start_transitions``, ``transitions`` and
    ``end_transitions`` in its likelihood, partition function and Viterbi
    code. Here those names are properties that add a fixed penalty to the
    illegal moves of the trainable scores: always while decoding, and in the
    likelihood too when ``transitions == "constrained"`` (the partition
    function then ranges over legal sequences only). So one module serves
    both modes without copying pytorch-crf's algorithms.
    """

    def __init__(self, tagset: TagSet, transitions: str = "constrained") -> None:
        if transitions not in TRANSITION_MODES:
            raise ValueError(f"transitions must be one of {TRANSITION_MODES}, got {transitions!r}")
        # CRF.__init__ would assign parameters to the names shadowed below.
        torch.nn.Module.__init__(self)
        self.num_tags = tagset.n_tags
        self.batch_first = True
        self.transition_mode = transitions
        self._decoding = False
        self.start_scores = torch.nn.Parameter(torch.empty(self.num_tags))
        self.end_scores = torch.nn.Parameter(torch.empty(self.num_tags))
        self.transition_scores = torch.nn.Parameter(torch.empty(self.num_tags, self.num_tags))
        start, trans, end = (torch.from_numpy(m) for m in tagset.allowed_transitions())
        self.register_buffer("start_penalty", _penalty(start), persistent=False)
        self.register_buffer("transition_penalty", _penalty(trans), persistent=False)
        self.register_buffer("end_penalty", _penalty(end), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for param in (self.start_scores, self.end_scores, self.transition_scores):
            torch.nn.init.uniform_(param, -0.1, 0.1)

    @property
    def constrained(self) -> bool:
        """Whether illegal moves are penalised now (always when decoding)."""
        return self._decoding or self.transition_mode == "constrained"

    @property
    def start_transitions(self) -> torch.Tensor:  # type: ignore[override]
        return self.start_scores + self.start_penalty if self.constrained else self.start_scores

    @property
    def end_transitions(self) -> torch.Tensor:  # type: ignore[override]
        return self.end_scores + self.end_penalty if self.constrained else self.end_scores

    @property
    def transitions(self) -> torch.Tensor:  # type: ignore[override]
        return self.transition_scores + self.transition_penalty if self.constrained else self.transition_scores

    def decode(self, emissions: torch.Tensor, mask: Optional[torch.Tensor] = None):  # type: ignore[override]
        """pytorch-crf's Viterbi, over legal BIOES sequences in both modes."""
        self._decoding = True
        try:
            return super().decode(emissions, mask=mask)
        finally:
            self._decoding = False

    def forward(  # type: ignore[override]
        self,
        emissions: torch.Tensor,
        mask: torch.Tensor,
        tags: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Mean NLL over sentences if ``tags`` is given, else padded Viterbi paths."""
        mask = mask.bool()
        if tags is not None:
            return -super().forward(emissions, tags.long(), mask=mask, reduction="mean")
        paths = self.decode(emissions, mask=mask)
        out = torch.full(mask.shape, -1, dtype=torch.long, device=emissions.device)
        for i, path in enumerate(paths):
            out[i, : len(path)] = torch.tensor(path, dtype=torch.long)
        return out


def _penalty(allowed: torch.Tensor) -> torch.Tensor:
    return torch.where(allowed, torch.tensor(0.0), torch.tensor(ILLEGAL))
