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

Decoding can also keep some tokens to given tags (entities set before the
tagger runs, words that are never entities): :func:`constrained_viterbi`
gives those tokens' other tags a score of minus infinity.

No spaCy or Thinc here: :mod:`conner.tagger.crf` wraps the module for Thinc.
"""

from typing import List, Optional

import numpy
import torch
from torchcrf import CRF

from ..settings import TRANSITIONS, Transitions, check_choice
from .tags import TagSet

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

    def __init__(self, tagset: TagSet, transitions: Transitions = TRANSITIONS) -> None:
        check_choice("transitions", transitions)
        # CRF.__init__ would assign parameters to the names shadowed below.
        torch.nn.Module.__init__(self)
        self.num_tags = tagset.n_tags
        self.batch_first = True
        # The ``transitions`` setting. It cannot keep that name here: pytorch-crf's
        # algorithms read ``self.transitions`` as the transition score table.
        self.transition_mode: Transitions = transitions
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
        return (
            self.transition_scores + self.transition_penalty
            if self.constrained
            else self.transition_scores
        )

    def decode(  # type: ignore[override]
        self,
        emissions: torch.Tensor,
        mask: Optional[torch.Tensor] = None,
        allowed: Optional[torch.Tensor] = None,
    ) -> List[List[int]]:
        """pytorch-crf's Viterbi, over legal BIOES sequences in both modes.

        allowed (Optional[torch.Tensor]): (batch, length, n_tags) booleans;
            if given, the best legal path among those whose every tag is allowed.
        """
        self._decoding = True
        try:
            if allowed is None:
                return super().decode(emissions, mask=mask)
            if mask is None:
                mask = torch.ones(emissions.shape[:2], dtype=torch.bool, device=emissions.device)
            with torch.no_grad():
                paths = constrained_viterbi(
                    emissions,
                    mask,
                    allowed,
                    self.start_transitions,
                    self.transitions,
                    self.end_transitions,
                )
            return [row[: int(n)].tolist() for row, n in zip(paths, mask.sum(1))]
        finally:
            self._decoding = False

    def forward(  # type: ignore[override]
        self,
        emissions: torch.Tensor,
        mask: torch.Tensor,
        tags: Optional[torch.Tensor] = None,
        allowed: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Mean NLL over sentences if ``tags`` is given, else padded Viterbi
        paths (restricted to ``allowed`` tags, if given: see :meth:`decode`)."""
        mask = mask.bool()
        if tags is not None:
            return -super().forward(emissions, tags.long(), mask=mask, reduction="mean")
        paths = self.decode(emissions, mask=mask, allowed=allowed)
        out = torch.full(mask.shape, -1, dtype=torch.long, device=emissions.device)
        for i, path in enumerate(paths):
            out[i, : len(path)] = torch.tensor(path, dtype=torch.long)
        return out


def constrained_viterbi(
    emissions: torch.Tensor,
    mask: torch.Tensor,
    allowed: torch.Tensor,
    start: torch.Tensor,
    transitions: torch.Tensor,
    end: torch.Tensor,
) -> torch.Tensor:
    """The best tag path of each sequence among those whose every tag is allowed.

    emissions (batch, length, n_tags): emission scores.
    mask (batch, length): true on each sequence's tokens (a prefix of the row).
    allowed (batch, length, n_tags): the tags each token may take; every
        token needs at least one.
    start, transitions, end (n_tags), (n_tags, n_tags), (n_tags): the scores
        of the first tag, of each move (from, to) and of the last tag.
    RETURNS (batch, length): tag indices, -1 after each sequence's end.

    A forbidden tag scores minus infinity, so no path through it is chosen,
    however the other scores compare (a finite penalty can be outweighed).
    """
    mask = mask.bool()
    allowed = allowed.bool()
    if not bool(allowed[mask].any(dim=-1).all()):
        raise ValueError("constrained_viterbi: a token has no allowed tag")
    batch, length, n_tags = emissions.shape
    paths = numpy.full((batch, length), -1, dtype="int64")
    if length == 0:
        return torch.from_numpy(paths).to(emissions.device)
    scores = emissions.masked_fill(~allowed, float("-inf"))
    best = start + scores[:, 0]
    history = []
    for i in range(1, length):
        # (batch, from, 1) + (from, to) + (batch, 1, to): best previous tag of each tag.
        step, previous = (best.unsqueeze(2) + transitions + scores[:, i].unsqueeze(1)).max(dim=1)
        best = torch.where(mask[:, i].unsqueeze(1), step, best)
        history.append(previous)
    # Backtrack on the CPU: one transfer, not one per token.
    last = (best + end).argmax(dim=1).cpu().numpy()
    back = (
        torch.stack(history).cpu().numpy()
        if history
        else numpy.zeros((0, batch, n_tags), dtype="int64")
    )
    for b, n in enumerate(mask.sum(dim=1).tolist()):
        if n == 0:
            continue
        tag = paths[b, n - 1] = last[b]
        for i in range(n - 1, 0, -1):
            tag = paths[b, i - 1] = back[i - 1, b, tag]
    return torch.from_numpy(paths).to(emissions.device)


def _penalty(allowed: torch.Tensor) -> torch.Tensor:
    return torch.where(allowed, torch.tensor(0.0), torch.tensor(ILLEGAL))
