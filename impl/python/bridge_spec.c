#include "bridge_spec.h"

/* d[key] = value, stealing value; -1 with an exception set. */
static int put(PyObject *d, const char *key, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyDict_SetItemString(d, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *int_list(const int64_t *v, int64_t n)
{
    PyObject *l = PyList_New((Py_ssize_t)n);
    for (int64_t i = 0; l && i < n; i++) {
        PyObject *x = PyLong_FromLongLong(v[i]);
        if (!x) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, x);
    }
    return l;
}

static PyObject *tensor_dict(const dtb_tensor_desc *t)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, "name", PyUnicode_FromString(t->name)) ||
        put(d, "shape", int_list(t->shape, t->ndim)) ||
        put(d, "numel", PyLong_FromLongLong(t->numel)) ||
        put(d, "offset", PyLong_FromLongLong(t->offset)) ||
        put(d, "layer", PyLong_FromLong(t->layer)) ||
        put(d, "flags", PyLong_FromUnsignedLong(t->flags))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *model_dict(const dtb_model_desc *m)
{
    PyObject *d = PyDict_New(), *tensors = d ? PyList_New(m->n_tensors) : NULL;
    if (!tensors) {
        Py_XDECREF(d);
        return NULL;
    }
    for (int32_t i = 0; i < m->n_tensors; i++) {
        PyObject *t = tensor_dict(&m->tensors[i]);
        if (!t) {
            Py_DECREF(tensors);
            Py_DECREF(d);
            return NULL;
        }
        PyList_SET_ITEM(tensors, i, t);
    }
    const int64_t n_dims = m->kind == DTB_MODEL_MLP && m->dims ? m->n_layers + 1 : 0;
    if (put(d, "tensors", tensors) || put(d, "kind", PyLong_FromLong(m->kind)) ||
        put(d, "name", PyUnicode_FromString(m->name)) ||
        put(d, "n_params", PyLong_FromLongLong(m->n_params)) ||
        put(d, "n_layers", PyLong_FromLong(m->n_layers)) ||
        put(d, "dims", int_list(m->dims, n_dims)) ||
        put(d, "vocab", PyLong_FromLongLong(m->vocab)) ||
        put(d, "context", PyLong_FromLongLong(m->context)) ||
        put(d, "n_head", PyLong_FromLongLong(m->n_head)) ||
        put(d, "d_model", PyLong_FromLongLong(m->d_model)) ||
        put(d, "layer_norm_eps", PyFloat_FromDouble(m->layer_norm_eps))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

PyObject *bridge_spec_to_python(const dtb_run_spec *s)
{
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (put(d, "model", model_dict(s->model)) || put(d, "stage", PyLong_FromLong(s->stage)) ||
        put(d, "precision", PyLong_FromLong(s->precision)) ||
        put(d, "optimizer", PyLong_FromLong(s->optimizer)) ||
        put(d, "lr", PyFloat_FromDouble(s->lr)) ||
        put(d, "momentum", PyFloat_FromDouble(s->momentum)) ||
        put(d, "beta1", PyFloat_FromDouble(s->beta1)) ||
        put(d, "beta2", PyFloat_FromDouble(s->beta2)) ||
        put(d, "eps", PyFloat_FromDouble(s->eps)) ||
        put(d, "weight_decay", PyFloat_FromDouble(s->weight_decay)) ||
        put(d, "clip_norm", PyFloat_FromDouble(s->clip_norm)) ||
        put(d, "global_batch", PyLong_FromLongLong(s->global_batch)) ||
        put(d, "micro_batches", PyLong_FromLong(s->micro_batches)) ||
        put(d, "steps", PyLong_FromLongLong(s->steps)) ||
        put(d, "seed", PyLong_FromUnsignedLongLong(s->seed)) ||
        put(d, "rank", PyLong_FromLong(s->rank)) ||
        put(d, "world_size", PyLong_FromLong(s->world_size)) ||
        put(d, "local_rank", PyLong_FromLong(s->local_rank)) ||
        put(d, "local_size", PyLong_FromLong(s->local_size)) ||
        put(d, "mpi_comm_fortran", PyLong_FromLongLong(s->mpi_comm_fortran)) ||
        put(d, "device_kind", PyLong_FromLong(s->device_kind)) ||
        put(d, "device_index", PyLong_FromLong(s->device_index)) ||
        put(d, "bucket_bytes", PyLong_FromLongLong(s->bucket_bytes)) ||
        put(d, "prefetch_depth", PyLong_FromLong(s->prefetch_depth)) ||
        put(d, "stress_delay_us", PyLong_FromLong(s->stress_delay_us)) ||
        put(d, "_address", PyLong_FromVoidPtr((void *)s))) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}
