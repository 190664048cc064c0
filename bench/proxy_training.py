"""Proxy-model training throughput: several proxies at once vs one at a time, same run.

The proxies are the issue's calibration models: Llama-style, 2 layers, width 128 or 256
(intermediate 2.75 x width, tied embeddings: 1.45M / 3.70M parameters), 8,192-token vocabulary,
batches of 16 x 256 tokens. The same N models (same seeds, same token ids) are trained with:

  plain        one at a time, all cores, the usual HF path (full logits + cross_entropy): the
               calibration's "plain loop" and the baseline of every ratio printed
  chunked      one at a time, all cores, with the cache-sized output layer (head.py)
  per-core     several at once: one single-threaded proxy per core (parallel.py) - what
               `quadmix-wh simulate` uses on CPU
  stacked      several at once: stacked weights under torch.func.vmap (batched.py) - what
               it uses on CUDA

Token ids are random (throughput does not depend on the text). The modes run in alternation,
`--rounds` times, and the best round of each is reported, so a burst of load from another process
does not bias one mode. Tokens per CPU-second are printed too: on a machine shared with other
jobs the wall-clock rates drop with the load, while per CPU-second a single-threaded proxy
(per-core) costs about the same; times the core count it estimates the idle-machine rate. (For
the multi-threaded modes CPU time includes OpenMP spin-waiting, so it is a poor guide there.)
Usage: python -m bench.proxy_training [--quick] [--models 4] [--widths 128 256]
       [--modes plain per-core] [--seq-len 128 --batch 8]  (the simulation's default shapes)
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from quadmix_wh.simulation.batched import train_group
from quadmix_wh.simulation.parallel import available_cores, train_parallel
from quadmix_wh.simulation.proxy import build_proxy, llama_config, non_embedding_parameters
from quadmix_wh.simulation.trainer import (TrainSettings, batch_slices, evaluate_single, lr_at,
                                           make_optimizer, next_token_loss, set_lr, torch_threads,
                                           train_single)

VOCAB, SEQ_LEN, BATCH = 8192, 256, 16


MODES = ("plain", "chunked", "per-core", "stacked")


def proxy_config(width: int, seq_len: int = SEQ_LEN):
    return llama_config({"hidden_size": width, "num_hidden_layers": 2, "num_attention_heads": 4,
                         "intermediate_size": width * 11 // 4}, VOCAB, seq_len)


def plain_single(config, sequences, eval_sets, seed, settings):
    """The plain loop: HF forward to full logits, cross_entropy on the shifted tokens."""
    model = build_proxy(config, seed)
    optimizer = make_optimizer(model.parameters(), settings)
    data = torch.as_tensor(sequences, dtype=torch.long)
    slices = batch_slices(len(data), settings.batch_size)
    for step, part in enumerate(slices):
        set_lr(optimizer, lr_at(step, len(slices), settings))
        ids = data[part]
        loss = next_token_loss(model(input_ids=ids).logits, ids)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip, foreach=False)
        optimizer.step()
    return evaluate_single(model, eval_sets, settings, torch.device("cpu"))


def run_mode(mode, config, sequences, eval_sets, settings, cores):
    seeds = list(range(len(sequences)))
    with torch_threads(cores):
        if mode == "plain":
            return [plain_single(config, s, eval_sets, seed, settings) for s, seed in zip(sequences, seeds)]
        if mode == "chunked":
            return [train_single(config, s, eval_sets, seed, settings) for s, seed in zip(sequences, seeds)]
        if mode == "per-core":
            return train_parallel(config, sequences, eval_sets, seeds, settings, workers=cores)
        return train_group(config, sequences, eval_sets, seeds, settings)


def measure(width, n_models, steps, rounds, cores, modes=MODES, seq_len=SEQ_LEN, batch=BATCH):
    config = proxy_config(width, seq_len)
    rng = np.random.default_rng(width)
    sequences = [rng.integers(0, VOCAB, (steps * batch, seq_len)) for _ in range(n_models)]
    eval_sets = {"eval": rng.integers(0, VOCAB, (2, seq_len))}
    settings = TrainSettings(seq_len=seq_len, batch_size=batch, learning_rate=1e-3, eval_batch_size=2)
    tokens = n_models * steps * batch * seq_len
    modes = ["plain"] + [m for m in modes if m != "plain"]
    best = {m: float("inf") for m in modes}
    cpu = {m: float("inf") for m in modes}
    losses = {}
    for _ in range(rounds):
        for mode in modes:
            started, cpu_started = time.perf_counter(), time.process_time()
            losses[mode] = [r["eval"] for r in run_mode(mode, config, sequences, eval_sets, settings, cores)]
            best[mode] = min(best[mode], time.perf_counter() - started)
            cpu[mode] = min(cpu[mode], time.process_time() - cpu_started)
    model = build_proxy(config, 0)
    total = sum(p.numel() for p in model.parameters())
    print(f"\nwidth {width}: {total / 1e6:.2f}M parameters ({non_embedding_parameters(model) / 1e6:.2f}M "
          f"non-embedding), {n_models} models x {steps} steps x {batch}x{seq_len} tokens")
    base = tokens / best["plain"]
    for mode in modes:
        rate = tokens / best[mode]
        drift = max(abs(a - b) for a, b in zip(losses[mode], losses["plain"]))
        print(f"  {mode:<9} {rate:>8,.0f} tokens/s  x{rate / base:4.2f}   {tokens / cpu[mode]:>7,.0f} tokens "
              f"per CPU-second   (final eval loss vs plain: max |diff| {drift:.1e})")
    return {m: tokens / best[m] for m in modes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and one round (~1 min)")
    parser.add_argument("--models", type=int, default=None, help="proxies per mode (default: 2 x cores)")
    parser.add_argument("--widths", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="modes to time (plain, the baseline, is always timed)")
    parser.add_argument("--seq-len", type=int, default=SEQ_LEN,
                        help="sequence length (the calibration's 256; the simulation default is 128)")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="sequences per step (the calibration's 16; the simulation default is 8)")
    args = parser.parse_args()
    cores = available_cores()
    n_models = args.models or 2 * cores
    steps = args.steps or (3 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 2)
    print(f"proxy training throughput on {cores} core(s), torch {torch.__version__}; "
          f"load average at start {os.getloadavg()[0]:.2f}")
    for width in args.widths:
        rates = measure(width, n_models, steps, rounds, cores, args.modes, args.seq_len, args.batch)
        batched = [m for m in ("per-core", "stacked") if m in rates]
        if not batched:
            continue
        fastest = max(batched, key=rates.get)
        print(f"  => several at once ({fastest}) vs one at a time (plain): "
              f"x{rates[fastest] / rates['plain']:.2f}")


if __name__ == "__main__":
    main()
