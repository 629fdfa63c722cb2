#include "bridge_host.h"

#include <mpi.h>
#include <stdio.h>

#define CAPSULE_NAME "dtbench.host"

static bridge_host *host_of(PyObject *capsule)
{
    return (bridge_host *)PyCapsule_GetPointer(capsule, CAPSULE_NAME);
}

/* A writable C-contiguous view of at least `need` bytes of obj, or -1 with
 * an exception naming `what`. */
static int writable_view(PyObject *obj, Py_ssize_t need, const char *what, Py_buffer *view)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) != 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s must be a writable C-contiguous buffer (a NumPy array or "
                     "tensor.numpy() of a CPU tensor), got %s",
                     what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (view->len < need) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes, %zd needed", what, view->len, need);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *host_sample_batch(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *capsule, *inputs, *targets;
    long long step, first, count;
    if (!PyArg_ParseTuple(args, "OLLLOO", &capsule, &step, &first, &count, &inputs, &targets))
        return NULL;
    bridge_host *h = host_of(capsule);
    if (!h)
        return NULL;
    if (count < 0) {
        PyErr_Format(PyExc_ValueError, "sample_batch: negative count %lld", count);
        return NULL;
    }
    Py_buffer in_view = {0}, tg_view = {0};
    int have_in = inputs != Py_None, have_tg = targets != Py_None;
    if (have_in &&
        writable_view(inputs, (Py_ssize_t)(count * h->input_bytes_per_sample), "inputs",
                      &in_view) != 0)
        return NULL;
    if (have_tg && writable_view(targets, (Py_ssize_t)(count * h->targets_per_sample * 4),
                                 "targets", &tg_view) != 0) {
        if (have_in)
            PyBuffer_Release(&in_view);
        return NULL;
    }
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = h->api.sample_batch(h->api.ctx, step, first, count, have_in ? in_view.buf : NULL,
                             have_tg ? (int32_t *)tg_view.buf : NULL);
    Py_END_ALLOW_THREADS
    if (have_in)
        PyBuffer_Release(&in_view);
    if (have_tg)
        PyBuffer_Release(&tg_view);
    if (rc != 0) {
        PyErr_Format(PyExc_ValueError,
                     "sample_batch(step=%lld, first=%lld, count=%lld) refused the range", step,
                     first, count);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *host_init_params(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *capsule, *out;
    int tensor;
    long long first, count;
    if (!PyArg_ParseTuple(args, "OiLLO", &capsule, &tensor, &first, &count, &out))
        return NULL;
    bridge_host *h = host_of(capsule);
    if (!h)
        return NULL;
    if (tensor < 0 || tensor >= h->model->n_tensors || first < 0 || count < 0 ||
        first + count > h->model->tensors[tensor].numel) {
        PyErr_Format(PyExc_ValueError, "init_params: tensor %d elements %lld..+%lld out of range",
                     tensor, first, count);
        return NULL;
    }
    Py_buffer view;
    if (writable_view(out, (Py_ssize_t)(count * 4), "out", &view) != 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = h->api.init_params(h->api.ctx, tensor, first, count, (float *)view.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (rc != 0) {
        PyErr_Format(PyExc_ValueError, "init_params(tensor=%d, first=%lld, count=%lld) failed",
                     tensor, first, count);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *host_mem_track(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *capsule;
    int category;
    long long delta;
    if (!PyArg_ParseTuple(args, "OiL", &capsule, &category, &delta))
        return NULL;
    bridge_host *h = host_of(capsule);
    if (!h)
        return NULL;
    if (category < 0 || category >= DTB_MEM_CATEGORY_COUNT) {
        PyErr_Format(PyExc_ValueError, "mem_track: no memory category %d", category);
        return NULL;
    }
    h->api.mem_track(h->api.ctx, category, delta);
    Py_RETURN_NONE;
}

/* Rank 0's value on every rank of the communicator (a Fortran handle),
 * through PMPI: rendezvous plumbing is the bridge's, not the plugin's
 * traffic, so the harness's MPI counters never see it. */
static PyObject *host_bcast_int64(PyObject *self, PyObject *args)
{
    (void)self;
    long long comm_f, value;
    if (!PyArg_ParseTuple(args, "LL", &comm_f, &value))
        return NULL;
    MPI_Comm comm = MPI_Comm_f2c((MPI_Fint)comm_f);
    int64_t v = value;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = PMPI_Bcast(&v, 1, MPI_INT64_T, 0, comm);
    Py_END_ALLOW_THREADS
    if (rc != MPI_SUCCESS) {
        PyErr_Format(PyExc_RuntimeError, "MPI_Bcast of the rendezvous port failed (error %d)", rc);
        return NULL;
    }
    return PyLong_FromLongLong(v);
}

/* The address of the harness's dtb_host_api, for a module that hands it
 * to C code (wrap_plugin.py); valid until destroy returns. */
static PyObject *host_api_address(PyObject *self, PyObject *capsule)
{
    (void)self;
    bridge_host *h = host_of(capsule);
    return h ? PyLong_FromVoidPtr(&h->api) : NULL;
}

static PyMethodDef host_methods[] = {
    {"api_address", host_api_address, METH_O, "api_address(host)"},
    {"sample_batch", host_sample_batch, METH_VARARGS,
     "sample_batch(host, step, first, count, inputs, targets)"},
    {"init_params", host_init_params, METH_VARARGS, "init_params(host, tensor, first, count, out)"},
    {"mem_track", host_mem_track, METH_VARARGS, "mem_track(host, category, delta_bytes)"},
    {"bcast_int64", host_bcast_int64, METH_VARARGS, "bcast_int64(comm_fortran, value)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {
    PyModuleDef_HEAD_INIT, "_dtbench_host", "dtbench's host API for Python plugins", -1,
    host_methods, NULL, NULL, NULL, NULL,
};

static PyObject *host_module_init(void)
{
    return PyModule_Create(&host_module);
}

int bridge_host_register(void)
{
    return PyImport_AppendInittab("_dtbench_host", host_module_init) == 0 ? 0 : -1;
}

PyObject *bridge_host_capsule(bridge_host *h)
{
    return PyCapsule_New(h, CAPSULE_NAME, NULL);
}
