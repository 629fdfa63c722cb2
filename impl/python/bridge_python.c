#include "bridge_python.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef DTB_PYTHON_EXECUTABLE
#define DTB_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif
#ifndef DTB_PYTHON_VENV_DEFAULT
#define DTB_PYTHON_VENV_DEFAULT "/opt/dtbench-peers"
#endif

static int started;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Extension modules (NumPy's, torch's) are built without linking libpython:
 * they resolve Py* in the global scope, which a plugin dlopened
 * RTLD_LOCAL does not reach. Promote the libpython we were linked with. */
static int promote_libpython(char *err, size_t err_len)
{
    Dl_info info;
    if (!dladdr((void *)&Py_InitializeFromConfig, &info) || !info.dli_fname) {
        snprintf(err, err_len, "cannot locate libpython (dladdr failed)");
        return -1;
    }
    if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD)) {
        const char *why = dlerror();
        snprintf(err, err_len, "cannot make %s global: %s", info.dli_fname, why ? why : "?");
        return -1;
    }
    return 0;
}

/* The peers' virtual environment: $DTBENCH_PYTHON_VENV, else the default
 * ci/install-peers.sh installs into. Its site-packages go first on sys.path
 * and the interpreter's dist-packages leave it (a venv without system site
 * packages), so the venv's NumPy and torch are the ones imported. Without a
 * venv the interpreter's own packages serve (Debian's python3-numpy). */
static const char *venv_dir(void)
{
    const char *v = getenv("DTBENCH_PYTHON_VENV");
    return v && v[0] ? v : DTB_PYTHON_VENV_DEFAULT;
}

static int set_path(const char *bridge_dir, char *err, size_t err_len)
{
    char site[4096];
    snprintf(site, sizeof site, "%s/lib/python%d.%d/site-packages", venv_dir(), PY_MAJOR_VERSION,
             PY_MINOR_VERSION);
    const int use_venv = is_dir(site);
    const char *explicit_venv = getenv("DTBENCH_PYTHON_VENV");
    if (!use_venv && explicit_venv && explicit_venv[0]) {
        snprintf(err, err_len,
                 "DTBENCH_PYTHON_VENV=%s is not a Python %d.%d virtual environment (no %s)",
                 explicit_venv, PY_MAJOR_VERSION, PY_MINOR_VERSION, site);
        return -1;
    }
    PyObject *sys_path = PySys_GetObject("path"); /* borrowed */
    if (!sys_path || !PyList_Check(sys_path)) {
        snprintf(err, err_len, "the embedded interpreter has no sys.path list");
        return -1;
    }
    if (use_venv) {
        /* Drop the system's dist-packages (numpy 1.x there would shadow the venv's). */
        for (Py_ssize_t i = PyList_GET_SIZE(sys_path) - 1; i >= 0; i--) {
            const char *p = PyUnicode_AsUTF8(PyList_GET_ITEM(sys_path, i));
            if (p && strstr(p, "dist-packages") && PySequence_DelItem(sys_path, i) != 0)
                goto py_error;
        }
        PyObject *s = PyUnicode_FromString(site);
        if (!s || PyList_Insert(sys_path, 0, s) != 0) {
            Py_XDECREF(s);
            goto py_error;
        }
        Py_DECREF(s);
    }
    /* sys.executable: the interpreter a subprocess of the module would run
     * (empty in an embedded interpreter otherwise). */
    char exe[4096];
    snprintf(exe, sizeof exe, "%s", DTB_PYTHON_EXECUTABLE);
    if (use_venv)
        snprintf(exe, sizeof exe, "%s/bin/python", venv_dir());
    PyObject *e = PyUnicode_FromString(exe);
    if (!e || PySys_SetObject("executable", e) != 0) {
        Py_XDECREF(e);
        goto py_error;
    }
    Py_DECREF(e);
    PyObject *b = PyUnicode_FromString(bridge_dir);
    if (!b || PyList_Insert(sys_path, 0, b) != 0) {
        Py_XDECREF(b);
        goto py_error;
    }
    Py_DECREF(b);
    return 0;
py_error:
    bridge_python_error_text(0, err, err_len);
    return -1;
}

int bridge_python_start(const char *bridge_dir, char *err, size_t err_len)
{
    if (started)
        return 0;
    if (promote_libpython(err, err_len) != 0)
        return -1;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* the rank worker owns SIGTERM and friends */
    config.parse_argv = 0;
    config.buffered_stdio = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, "dtbench-python-bridge");
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        snprintf(err, err_len, "cannot start the Python interpreter: %s",
                 st.err_msg ? st.err_msg : "unknown error");
        return -1;
    }
    int rc = set_path(bridge_dir, err, err_len);
    started = 1;
    PyEval_SaveThread(); /* from now on the GIL is taken per call */
    return rc;
}

PyGILState_STATE bridge_python_enter(void)
{
    return PyGILState_Ensure();
}

void bridge_python_leave(PyGILState_STATE g)
{
    PyGILState_Release(g);
}

static void copy_utf8(PyObject *s, char *out, size_t len)
{
    const char *t = s ? PyUnicode_AsUTF8(s) : NULL;
    snprintf(out, len, "%s", t ? t : "(unprintable exception)");
    if (!t)
        PyErr_Clear();
}

void bridge_python_error_text(int with_traceback, char *out, size_t len)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    PyErr_Fetch(&type, &value, &tb);
    if (!type) {
        snprintf(out, len, "no Python exception was set");
        return;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    PyObject *text = NULL;
    if (with_traceback) {
        PyObject *mod = PyImport_ImportModule("traceback");
        PyObject *lines = mod ? PyObject_CallMethod(mod, "format_exception", "OOO", type,
                                                    value ? value : Py_None, tb ? tb : Py_None)
                              : NULL;
        PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
        text = empty ? PyUnicode_Join(empty, lines) : NULL;
        Py_XDECREF(empty);
        Py_XDECREF(lines);
        Py_XDECREF(mod);
    } else {
        PyObject *msg = value ? PyObject_Str(value) : NULL;
        const char *name = ((PyTypeObject *)type)->tp_name;
        const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
        text = m && m[0] ? PyUnicode_FromFormat("%s: %s", name, m) : PyUnicode_FromString(name);
        Py_XDECREF(msg);
    }
    if (!text)
        PyErr_Clear();
    copy_utf8(text, out, len);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (!with_traceback)
        for (char *c = out; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
}
