"""A tiny MoE language model in plain PyTorch whose router mimics Megatron-Core's TopKRouter:
class name contains "Router", attributes layer_number / topk / num_experts / config.num_moe_experts,
forward returns (probs, routing_map) with routing_map bool [tokens, num_experts], an optional capacity
factor applied through a module-level apply_router_token_dropping (as megatron.core.transformer.moe.router
does), and experts called as experts(hidden, tokens_per_expert, probs) like Megatron's MoELayer."""
from __future__ import annotations

import math
import types

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as ckpt


def apply_router_token_dropping(routing_probs, routing_map, router_topk, capacity_factor, drop_policy="probs",
                                pad_to_capacity=False):
    num_tokens, num_experts = routing_probs.shape
    capacity = math.ceil(((num_tokens * router_topk) / num_experts) * capacity_factor)
    if capacity >= num_tokens:
        mask = torch.ones_like(routing_map)
    else:
        _, idx = torch.topk(routing_probs, k=capacity, dim=0, sorted=False)
        mask = torch.zeros_like(routing_probs).scatter(0, idx, 1).bool()
    final_map = torch.logical_and(routing_map, mask)
    return routing_probs * final_map, final_map


class TinyTopKRouter(nn.Module):
    def __init__(self, hidden, num_experts, topk, capacity_factor=None, aux_coeff=1e-2, session=None):
        super().__init__()
        self.config = types.SimpleNamespace(num_moe_experts=num_experts, moe_router_topk=topk,
                                            moe_expert_capacity_factor=capacity_factor)
        self.weight = nn.Parameter(torch.randn(num_experts, hidden) * 0.5)
        self.topk = topk
        self.num_experts = num_experts
        self.layer_number = None
        self.aux_coeff = aux_coeff
        self.session = session
        self.seen = []          # the model's own record: routing_map.sum(0) of every gradient pass
        self.raise_oom = None   # test hook: exception to raise in forward
        self.last_aux = None

    def forward(self, x):
        if self.raise_oom is not None:
            e, self.raise_oom = self.raise_oom, None
            raise e
        logits = x.reshape(-1, x.shape[-1]) @ self.weight.t()
        scores = torch.softmax(logits, dim=-1)
        top_p, top_i = torch.topk(scores, self.topk, dim=-1)
        routing_map = torch.zeros_like(scores, dtype=torch.bool).scatter(1, top_i, True)
        probs = torch.zeros_like(scores).scatter(1, top_i, top_p)
        if self.config.moe_expert_capacity_factor is not None:
            probs, routing_map = apply_router_token_dropping(probs, routing_map, self.topk,
                                                             self.config.moe_expert_capacity_factor)
        if self.training and torch.is_grad_enabled():
            # switch load-balancing loss, logged divided by its coefficient like Megatron (1.0 = balanced)
            f = routing_map.float().sum(0) / (routing_map.shape[0] * self.topk)
            p = scores.mean(0)
            aux = self.num_experts * (f * p).sum()
            self.last_aux = aux
            if self.session is not None:
                self.session.record_loss(self.layer_number, "load_balancing_loss", aux.detach())
        return probs, routing_map


class TinyExperts(nn.Module):
    def __init__(self, hidden, ffn, num_experts):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(num_experts, hidden, ffn) * 0.1)
        self.w2 = nn.Parameter(torch.randn(num_experts, ffn, hidden) * 0.1)
        self.received = []

    def forward(self, permuted_tokens, tokens_per_expert, permuted_probs):
        self.received.append(tokens_per_expert.clone())
        outs = []
        start = 0
        for e, n in enumerate(tokens_per_expert.tolist()):
            h = permuted_tokens[start:start + n]
            outs.append(F.gelu(h @ self.w1[e]) @ self.w2[e])
            start += n
        out = torch.cat(outs, 0) if outs else permuted_tokens
        return out * permuted_probs.unsqueeze(-1), None


class TinyMoELayer(nn.Module):
    def __init__(self, hidden, ffn, num_experts, topk, capacity_factor=None, session=None):
        super().__init__()
        self.router = TinyTopKRouter(hidden, num_experts, topk, capacity_factor, session=session)
        self.experts = TinyExperts(hidden, ffn, num_experts)
        self.layer_number = None

    def set_layer_number(self, n):
        self.layer_number = n
        self.router.layer_number = n

    def forward(self, x):
        shape = x.shape
        tokens = x.reshape(-1, shape[-1])
        probs, routing_map = self.router(x)
        if self.router.training and torch.is_grad_enabled():
            self.router.seen.append(routing_map.sum(0).detach().clone())
        # permute: token copies grouped by expert
        idx_e, idx_t = routing_map.t().nonzero(as_tuple=True)
        tokens_per_expert = routing_map.sum(0)
        permuted = tokens[idx_t]
        permuted_probs = probs[idx_t, idx_e]
        out, _ = self.experts(permuted, tokens_per_expert, permuted_probs)
        y = torch.zeros_like(tokens).index_add_(0, idx_t, out)
        aux = self.router.last_aux
        if aux is not None and self.training and torch.is_grad_enabled():
            y = y + 0.0 * aux  # keep the aux loss in the graph (Megatron attaches it via MoEAuxLossAutoScaler)
        return y.reshape(shape)


class TinyMoEModel(nn.Module):
    """vocab -> hidden, n_layers x (residual MoE), -> vocab. Layer numbers are 1-based like Megatron."""

    def __init__(self, vocab=32, hidden=16, ffn=32, num_experts=4, topk=2, n_layers=2, capacity_factor=None,
                 checkpoint=None, session=None, seed=0):
        super().__init__()
        g = torch.random.get_rng_state()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(
            [TinyMoELayer(hidden, ffn, num_experts, topk, capacity_factor, session=session) for _ in range(n_layers)])
        for i, l in enumerate(self.layers):
            l.set_layer_number(i + 1)
        self.head = nn.Linear(hidden, vocab)
        torch.random.set_rng_state(g)
        self.checkpoint = checkpoint  # None | "reentrant" | "non_reentrant"

    def forward(self, tokens):
        h = self.embed(tokens)
        for l in self.layers:
            if self.checkpoint and self.training:
                h = h + ckpt.checkpoint(l, h, use_reentrant=(self.checkpoint == "reentrant"))
            else:
                h = h + l(h)
        return self.head(h)


def make_batches(n, micro_batch=4, seq=8, vocab=32, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, vocab, (micro_batch, seq + 1), generator=g) for _ in range(n)]


def train_step(model, opt, micro_batches):
    """One iteration: gradient accumulation over micro-batches, then the optimizer step. Returns mean loss."""
    opt.zero_grad()
    total = 0.0
    for mb in micro_batches:
        inp, tgt = mb[:, :-1], mb[:, 1:]
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1)) / len(micro_batches)
        loss.backward()
        total += float(loss.detach())
    opt.step()
    return total


def expected_counts_per_step(model, steps_micro):
    """From the routers' own records: {layer: [per-step summed counts]} given micro-batches per step."""
    out = {}
    for l in model.layers:
        seen = l.router.seen
        per = []
        i = 0
        for m in steps_micro:
            per.append(torch.stack(seen[i:i + m]).sum(0).tolist())
            i += m
        out[l.layer_number] = per
    return out
