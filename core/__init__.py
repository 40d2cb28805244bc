"""Descent Lab's core: one subpackage per capability, never importing streamlit.

env (is this machine ready?), data (what to train on), training (the one loop and what it returns),
runs (worker processes and the run store), classroom (gradient descent made visible), fit (GPU memory).
"""
