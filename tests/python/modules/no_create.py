"""Lacks create: the loader must refuse it in one line."""
NAME, VERSION, DESCRIPTION = "t-no-create", "1", "lacks create"
CAPS = ["ddp", "fp32", "sgd-momentum", "model-mlp", "cpu"]


def train_step(state, step):
    return 0.0


def get_params(state, out):
    pass


def get_facts(state):
    return None
