/*
 * The built-in module `_dtbench_host`: the harness's dtb_host_api and the
 * bridge's MPI plumbing as Python functions. The Python side
 * (dtbench/host.py) wraps them in a Host object; a module never calls them
 * directly. Buffers are anything with the writable, C-contiguous buffer
 * protocol of at least the bytes asked for (NumPy arrays, memoryviews,
 * tensor.numpy() of a CPU torch tensor): the harness writes into them in
 * place, no copy.
 */
#ifndef DTB_PYTHON_BRIDGE_HOST_H
#define DTB_PYTHON_BRIDGE_HOST_H

#include "bridge_python.h"
#include "dtbench/plugin.h"

/* What a Host capsule points at; lives as long as the bridge state. */
typedef struct bridge_host {
    dtb_host_api api;               /* a copy of what create got */
    int64_t input_bytes_per_sample; /* MLP: 4 * dims[0]; GPT: 4 * context */
    int64_t targets_per_sample;     /* MLP: 1; GPT: context */
    const dtb_model_desc *model;
} bridge_host;

/* Registers `_dtbench_host` as a built-in module; call before the
 * interpreter starts. 0 or -1. */
int bridge_host_register(void);

/* A capsule over h (borrowed pointer; h outlives it). New reference or NULL
 * with an exception set. */
PyObject *bridge_host_capsule(bridge_host *h);

#endif
