"""The divergence guard: when training blows up, step back to the last state that gave a
finite loss, without copying every weight before every batch.

The contract. Let W_t be the weights (and optimizer state) that batch t of a run sees:
batch t computes its loss L_t from W_t, then updates W_t -> W_(t+1). Call W_t good when its
weights are finite and L_t is finite.
- A non-finite L_u (NaN or inf) stops training before batch u updates anything.
- An update can also make the weights non-finite while its own loss was finite (an
  overflowing gradient). Usually the next batch's loss is then NaN, the case above; but not
  always (tanh and sigmoid turn an inf into 1), and the update of an epoch's last batch is
  seen by no batch. So the weights are checked too, at every checkpoint (below) and at the
  end of every epoch, and non-finite weights stop training as well.
- Either way the network goes back to the last good W_t: normally the one the previous
  batch saw (W_(u-1), or W_last at an epoch's end), earlier if the weights had turned
  non-finite before (they stay so: inf - x is inf, and NaN stays NaN); W_1 if nothing was
  applied. "Goes back" means the weights, the optimizer's state (slots, step counts) and the
  dropout layers' random generators are as they were when that batch started: training
  continued from there would repeat it exactly.

How, cheaply. A checkpoint (a copy of all of that, once its weights are checked finite) is
taken at the first batch and then every `every` batches; in between, the guard only notes
which batches it let through. To go back it restores the checkpoint and replays those
batches but the last one, which gives W_(u-1) again bit for bit: the same rows, the same
dropout draws, the same optimizer state, the same arithmetic (BLAS included, on one machine
with one thread count). Replaying assumes that the learning rate and the other settings did
not change since the checkpoint. If the replayed weights turn non-finite on the way, it
replays again and stops one batch short of that. The guard thus costs one copy every
`every` batches, and a divergence at most 2 * `every` batches more.
"""
from __future__ import annotations

import numpy as np

from .layers import Dropout


class DivergenceGuard:
    """Watches one run of `network.train_iter` over the arrays x, y."""

    every = 32  # batches between two checkpoints

    def __init__(self, network, x, y):
        self.network = network
        self.x, self.y = x, y
        self.params = network.parameters()
        self.dropouts = [layer for layer in network.layers if isinstance(layer, Dropout)]
        self.weights = None  # the checkpoint's weights, one array per parameter
        self.optimizer_state = None
        self.generators = None  # each dropout layer's random generator state
        self.next_generators = []  # the same, noted as the next checkpoint's batch starts
        self.applied = []  # the batches (index arrays or slices) updated since the checkpoint
        self.checkpoints = 0

    def _due(self):
        return self.weights is None or len(self.applied) >= self.every

    def starting(self):
        """A batch is about to be drawn: if it is the next checkpoint's, note the dropout
        generators now, before they draw its masks."""
        if self.dropouts and self._due():
            self.next_generators = [layer.rng.bit_generator.state for layer in self.dropouts]

    def passed(self, batch):
        """`batch` (rows of x and y) gave a finite loss and its update comes next; False
        when the weights it saw are not finite (found at a checkpoint): training must stop."""
        if self._due():
            if not self.finite():
                return False
            self._checkpoint()
        self.applied.append(batch)
        return True

    def finite(self):
        return all(np.isfinite(p).all() for p in self.params)

    def _checkpoint(self):
        if self.weights is None:
            self.weights = [np.empty_like(p) for p in self.params]
        for saved, p in zip(self.weights, self.params):
            np.copyto(saved, p)
        state = self.network.optimizer.state_dict(self.params)
        state["slots"] = [[slot.copy() for slot in slots] for slots in state["slots"]]
        self.optimizer_state = state
        self.generators = self.next_generators
        self.applied = []
        self.checkpoints += 1

    def rewind(self):
        """Back to the last good state: the checkpoint, then every batch applied since it
        but the last, as long as the weights stay finite."""
        if self.weights is None:  # no batch was applied: only the first masks were drawn
            for layer, state in zip(self.dropouts, self.next_generators):
                layer.rng.bit_generator.state = state
            return
        wanted = len(self.applied) - 1
        replayed = self._replay(wanted)
        if replayed < wanted:  # the weights turned non-finite after `replayed` updates
            self._replay(replayed)
        self.applied = self.applied[:replayed]

    def _replay(self, count):
        """Restore the checkpoint and apply the first `count` batches since it; returns how
        many were applied before the weights turned non-finite (count if they did not)."""
        for p, saved in zip(self.params, self.weights):
            np.copyto(p, saved)
        self.network.optimizer.load_state(self.params, self.optimizer_state)
        for layer, state in zip(self.dropouts, self.generators):
            layer.rng.bit_generator.state = state
        for done, batch in enumerate(self.applied[:count]):
            _, _, grad = self.network._batch_loss(self.x[batch], self.y[batch])
            self.network._update(grad)
            if not self.finite():
                return done
        return count
