/*
 * python-bridge: a dtbench plugin that runs a Python module as the
 * implementation (docs/python.md). The harness loads it for `--impl
 * py:NAME` or `--impl path/to/module.py`: it dlopens this object, names the
 * module with dtbench_bridge_set_module, then calls the entry point, which
 * starts the interpreter, imports the module and builds the table from the
 * module's NAME, VERSION, DESCRIPTION and CAPS. Each ABI call forwards to
 * dtbench/_runtime.py, which calls the module's function of the same name.
 * A Python exception fails the call: host->error gets its last line, and
 * the whole traceback goes to the rank's stderr (the case's log).
 *
 * Beyond the ABI this object exports three functions only dtbench's
 * loader and worker look up (never a plugin's business):
 *   dtbench_bridge_set_module(path, to_train)
 *                                     which module the entry point imports,
 *                                     for a rank worker (1) or a probe (0)
 *   dtbench_bridge_error()            why the entry point returned NULL
 *   dtbench_bridge_traffic(&counters) the torch.distributed traffic the
 *                                     bridge's counting group measured
 *                                     during create and train_step
 */
/* Python.h first: it defines _GNU_SOURCE, which dladdr needs. */
#include "bridge_host.h"
#include "bridge_python.h"
#include "bridge_spec.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static char module_path[PATH_MAX];
static int module_trains; /* loaded by a rank worker (1) or a probe (0) */
static char load_error[PATH_MAX + 1200];
static char name_buf[DTB_NAME_LEN], version_buf[128], description_buf[256];
static dtb_plugin table;
static PyObject *runtime; /* dtbench._runtime, for the life of the process */

struct dtb_state {
    bridge_host host;
    PyObject *obj; /* the runtime's record of the module's state */
};

/* ---- calls into the runtime ------------------------------------------------ */

/* The pending exception: its traceback to stderr, its last line to
 * host->error. Returns -1. */
static int fail_python(const bridge_host *h, const char *call)
{
    char tb[16384], line[1024], msg[1200];
    PyObject *type, *value, *trace;
    PyErr_Fetch(&type, &value, &trace);
    Py_XINCREF(type), Py_XINCREF(value), Py_XINCREF(trace);
    PyErr_Restore(type, value, trace);
    bridge_python_error_text(1, tb, sizeof tb);
    PyErr_Restore(type, value, trace);
    bridge_python_error_text(0, line, sizeof line);
    fprintf(stderr, "python-bridge: %s raised (module %s):\n%s", call, module_path, tb);
    fflush(stderr);
    snprintf(msg, sizeof msg, "Python %s: %s (traceback in the rank's log)", call, line);
    if (h)
        h->api.error(h->api.ctx, msg);
    return -1;
}

/* runtime.<fn>(args...) with the GIL held; new reference or NULL. */
static PyObject *call(const char *fn, const char *fmt, ...)
{
    PyObject *f = PyObject_GetAttrString(runtime, fn);
    if (!f)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    PyObject *args = Py_VaBuildValue(fmt, ap);
    va_end(ap);
    PyObject *r = args ? PyObject_CallObject(f, args) : NULL;
    Py_XDECREF(args);
    Py_DECREF(f);
    return r;
}

/* ---- the ABI ----------------------------------------------------------------- */

static int bridge_create(const dtb_run_spec *spec, const dtb_host_api *host, dtb_state **out)
{
    dtb_state *s = calloc(1, sizeof *s);
    if (!s) {
        host->error(host->ctx, "python-bridge: out of memory");
        return -1;
    }
    s->host.api = *host;
    s->host.model = spec->model;
    if (spec->model->kind == DTB_MODEL_GPT) {
        s->host.input_bytes_per_sample = 4 * spec->model->context;
        s->host.targets_per_sample = spec->model->context;
    } else {
        s->host.input_bytes_per_sample = 4 * spec->model->dims[0];
        s->host.targets_per_sample = 1;
    }
    PyGILState_STATE g = bridge_python_enter();
    PyObject *d = bridge_spec_to_python(spec);
    PyObject *cap = d ? bridge_host_capsule(&s->host) : NULL;
    s->obj = cap ? call("create", "(OO)", d, cap) : NULL;
    Py_XDECREF(cap);
    Py_XDECREF(d);
    int rc = s->obj ? 0 : fail_python(&s->host, "create");
    bridge_python_leave(g);
    if (rc != 0) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

static int bridge_train_step(dtb_state *s, int64_t step, dtb_step_report *report)
{
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call("train_step", "(OL)", s->obj, (long long)step);
    double loss = 0, norm = -1, coef = -1;
    int rc = r && PyArg_ParseTuple(r, "ddd", &loss, &norm, &coef) ? 0 : -1;
    Py_XDECREF(r);
    if (rc != 0)
        rc = fail_python(&s->host, "train_step");
    bridge_python_leave(g);
    if (rc == 0)
        *report = (dtb_step_report){.struct_size = report->struct_size,
                                    .loss = loss, .grad_norm = norm, .clip_coef = coef};
    return rc;
}

/* runtime.<fn>(state, memoryview of out) -> whatever it returns. */
static PyObject *call_with_buffer(dtb_state *s, const char *fn, void *out, int64_t bytes)
{
    PyObject *mv = PyMemoryView_FromMemory(out, (Py_ssize_t)bytes, PyBUF_WRITE);
    PyObject *r = mv ? call(fn, "(OO)", s->obj, mv) : NULL;
    Py_XDECREF(mv);
    return r;
}

static int bridge_get_params(dtb_state *s, float *out, int64_t n)
{
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call_with_buffer(s, "get_params", out, n * 4);
    int rc = r ? 0 : fail_python(&s->host, "get_params");
    Py_XDECREF(r);
    bridge_python_leave(g);
    return rc;
}

static int bridge_get_compute_params(dtb_state *s, void *out, int64_t n, int32_t *dtype)
{
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call_with_buffer(s, "get_compute_params", out, n * 4);
    long v = r ? PyLong_AsLong(r) : -1;
    int rc = r && !PyErr_Occurred() ? 0 : fail_python(&s->host, "get_compute_params");
    Py_XDECREF(r);
    bridge_python_leave(g);
    if (rc == 0)
        *dtype = (int32_t)v;
    return rc;
}

/* A (calls, bytes) pair of 7-element sequences into out. */
static int parse_counters(PyObject *r, dtb_counters *out)
{
    PyObject *calls, *bytes;
    if (!PyArg_ParseTuple(r, "OO", &calls, &bytes))
        return -1;
    for (int k = 0; k < DTB_COLL_KIND_COUNT; k++) {
        PyObject *c = PySequence_GetItem(calls, k), *b = c ? PySequence_GetItem(bytes, k) : NULL;
        unsigned long long cv = c ? PyLong_AsUnsignedLongLong(c) : 0;
        unsigned long long bv = b ? PyLong_AsUnsignedLongLong(b) : 0;
        Py_XDECREF(c);
        Py_XDECREF(b);
        if (!b || PyErr_Occurred())
            return -1;
        out->calls[k] = cv;
        out->bytes[k] = bv;
    }
    return 0;
}

static int bridge_get_counters(dtb_state *s, dtb_counters *out)
{
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call("get_counters", "(O)", s->obj);
    dtb_counters c = {.struct_size = sizeof c};
    int rc = r && parse_counters(r, &c) == 0 ? 0 : fail_python(&s->host, "get_counters");
    Py_XDECREF(r);
    bridge_python_leave(g);
    if (rc == 0) {
        c.struct_size = out->struct_size;
        *out = c;
    }
    return rc;
}

static int bridge_get_facts(dtb_state *s, dtb_facts *out)
{
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call("get_facts", "(O)", s->obj);
    int stage, precision, reduce_dtype, param_dtype, prefetch;
    long long bucket, padding, working;
    int rc = r && PyArg_ParseTuple(r, "iiiiLiLL", &stage, &precision, &reduce_dtype,
                                   &param_dtype, &bucket, &prefetch, &padding, &working)
                 ? 0
                 : fail_python(&s->host, "get_facts");
    Py_XDECREF(r);
    bridge_python_leave(g);
    if (rc == 0)
        *out = (dtb_facts){.struct_size = out->struct_size, .stage = stage,
                           .precision = precision, .reduce_dtype = reduce_dtype,
                           .param_dtype = param_dtype, .bucket_bytes = bucket,
                           .prefetch_depth = prefetch, .mem_padding_bytes = padding,
                           .mem_working_bytes = working};
    return rc;
}

static void bridge_destroy(dtb_state *s)
{
    if (!s)
        return;
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call("destroy", "(O)", s->obj);
    if (!r) /* destroy cannot fail: say it on stderr */
        fail_python(NULL, "destroy");
    Py_XDECREF(r);
    Py_XDECREF(s->obj);
    bridge_python_leave(g);
    free(s);
}

/* ---- loading ----------------------------------------------------------------- */

EXPORT int dtbench_bridge_set_module(const char *path, int to_train)
{
    if (!path || strlen(path) >= sizeof module_path)
        return -1;
    snprintf(module_path, sizeof module_path, "%s", path);
    module_trains = to_train != 0;
    return 0;
}

EXPORT const char *dtbench_bridge_error(void)
{
    return load_error;
}

EXPORT int dtbench_bridge_traffic(dtb_counters *out)
{
    if (!runtime)
        return -1;
    PyGILState_STATE g = bridge_python_enter();
    PyObject *r = call("measured", "()");
    dtb_counters c = {.struct_size = sizeof c};
    int rc = r && parse_counters(r, &c) == 0 ? 0 : -1;
    if (rc != 0)
        fail_python(NULL, "measured");
    Py_XDECREF(r);
    bridge_python_leave(g);
    if (rc == 0)
        *out = c;
    return rc;
}

/* The directory this object lives in: the dtbench Python package is there. */
static int own_dir(char *out, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)&own_dir, &info) || !info.dli_fname || strlen(info.dli_fname) >= len)
        return -1;
    snprintf(out, len, "%s", info.dli_fname);
    char *slash = strrchr(out, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* runtime.load(path) -> (name, version, description, caps, has_compute_params) */
static int load_module(void)
{
    PyGILState_STATE g = bridge_python_enter();
    int rc = -1;
    runtime = PyImport_ImportModule("dtbench._runtime");
    PyObject *r = runtime ? call("load", "(si)", module_path, module_trains) : NULL;
    const char *name, *version, *description;
    unsigned long long caps;
    int compute;
    if (r && PyArg_ParseTuple(r, "sssKp", &name, &version, &description, &caps, &compute)) {
        snprintf(name_buf, sizeof name_buf, "%s", name);
        snprintf(version_buf, sizeof version_buf, "%s", version);
        snprintf(description_buf, sizeof description_buf, "%s", description);
        table.caps = caps;
        table.get_compute_params = compute ? bridge_get_compute_params : NULL;
        rc = 0;
    } else {
        char why[1024];
        bridge_python_error_text(0, why, sizeof why);
        snprintf(load_error, sizeof load_error, "Python module %s: %s", module_path, why);
    }
    Py_XDECREF(r);
    bridge_python_leave(g);
    return rc;
}

EXPORT const dtb_plugin *dtbench_plugin_entry(void)
{
    static int tried;
    static const dtb_plugin *result;
    if (tried)
        return result;
    tried = 1;
    char dir[PATH_MAX];
    if (!module_path[0]) {
        snprintf(load_error, sizeof load_error,
                 "the Python bridge needs a module: use --impl py:NAME or --impl path/to/module.py");
        return NULL;
    }
    if (own_dir(dir, sizeof dir) != 0) {
        snprintf(load_error, sizeof load_error, "the Python bridge cannot find its own directory");
        return NULL;
    }
    if (bridge_host_register() != 0) {
        snprintf(load_error, sizeof load_error, "cannot register the _dtbench_host module");
        return NULL;
    }
    if (bridge_python_start(dir, load_error, sizeof load_error) != 0 || load_module() != 0)
        return NULL;
    table = (dtb_plugin){
        .abi_version = DTB_ABI_VERSION,
        .struct_size = sizeof table,
        .name = name_buf,
        .version = version_buf,
        .description = description_buf,
        .caps = table.caps,
        .create = bridge_create,
        .train_step = bridge_train_step,
        .get_params = bridge_get_params,
        .get_counters = bridge_get_counters,
        .get_facts = bridge_get_facts,
        .destroy = bridge_destroy,
        .get_compute_params = table.get_compute_params,
    };
    result = &table;
    return result;
}
