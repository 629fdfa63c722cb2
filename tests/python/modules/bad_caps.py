"""Declares a capability dtbench does not know."""
NAME, VERSION, DESCRIPTION = "t-bad-caps", "1", "unknown capability"
CAPS = ["ddp", "fp32", "zero4"]


def create(spec, host):
    return None


train_step = get_params = get_facts = create
