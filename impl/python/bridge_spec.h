/*
 * dtb_run_spec and its dtb_model_desc as a Python dict (the keys are the C
 * field names; the model is a dict under "model" with its tensors as a list
 * of dicts), and "_address" the dtb_run_spec itself (valid until destroy
 * returns), for a module that hands the call on to C code (wrap_plugin.py).
 * dtbench/spec.py turns it into the Spec object a module gets.
 */
#ifndef DTB_PYTHON_BRIDGE_SPEC_H
#define DTB_PYTHON_BRIDGE_SPEC_H

#include "bridge_python.h"
#include "dtbench/plugin.h"

/* New reference, or NULL with an exception set. Call with the GIL held. */
PyObject *bridge_spec_to_python(const dtb_run_spec *spec);

#endif
