/*
 * The interpreter the Python bridge embeds (docs/python.md): Debian's
 * CPython (libpython3, the one /usr/bin/python3 runs), started once per
 * process and never finalised (torch's and NumPy's extension modules do not
 * survive Py_Finalize). Every call into Python goes through
 * bridge_python_enter / bridge_python_leave, which take and drop the GIL:
 * between calls no thread of ours holds it, so the interpreter's and
 * torch's own threads (gloo completions running Python callbacks) never
 * wait on a rank that sits in MPI.
 */
#ifndef DTB_PYTHON_BRIDGE_PYTHON_H
#define DTB_PYTHON_BRIDGE_PYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

/* Starts the interpreter with sys.path = [<bridge_dir>, the venv's
 * site-packages (see bridge_python.c), the interpreter's own]. Idempotent.
 * 0, or -1 with a one-line reason. */
int bridge_python_start(const char *bridge_dir, char *err, size_t err_len);

/* The GIL for the calling thread (PyGILState). */
PyGILState_STATE bridge_python_enter(void);
void bridge_python_leave(PyGILState_STATE g);

/* The pending Python exception as text, cleared: with_traceback 0 gives
 * "Type: message" on one line, 1 the whole traceback as Python prints it. */
void bridge_python_error_text(int with_traceback, char *out, size_t len);

#endif
