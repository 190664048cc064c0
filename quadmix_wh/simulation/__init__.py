"""Proxy-model simulation for QuaDMix: Algorithm 1, the token store, proxy training, results."""
