/* The rule engine's per-document loops in C, for speed only: every function here has a
 * pure-Python twin that defines what it computes (named in its docstring), and the tests compare
 * the two on every labelled passage. Without a C compiler the package installs without this module
 * and the engine uses the twins (streams/rules/native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define PAIR_MIX 0x9E3779B1ULL

/* Mark one bucket; on its first mark add its weight in every theme row. */
static inline void
add_bucket(uint64_t bucket, uint8_t *seen, int64_t *count, const float *weights, Py_ssize_t themes,
           Py_ssize_t width, double *sums)
{
    if (seen[bucket >> 3] & (1u << (bucket & 7)))
        return;
    seen[bucket >> 3] |= (uint8_t)(1u << (bucket & 7));
    (*count)++;
    for (Py_ssize_t t = 0; t < themes; t++)
        sums[t] += (double)weights[(Py_ssize_t)bucket * themes + t];
}

/* A lemma's entry (a new reference): ``entries[lemma]``, else ``make_entry(lemma)``, which caches it.
 * Bytes in native order: the lemma's 32-bit hash, then its buckets as uint16 (a model has at most 2**16
 * buckets); small, because a document reads one entry per word from a cache of up to 200,000. */
static inline uint64_t
entry_hash(PyObject *entry)
{
    uint32_t hashed;
    memcpy(&hashed, PyBytes_AS_STRING(entry), sizeof hashed);
    return hashed;
}

static inline const uint16_t *
entry_buckets(PyObject *entry, Py_ssize_t *count)
{
    *count = (PyBytes_GET_SIZE(entry) - 4) / 2;
    return (const uint16_t *)(PyBytes_AS_STRING(entry) + 4);
}

static PyObject *
get_entry(PyObject *entries, PyObject *make_entry, PyObject *lemma)
{
    PyObject *entry = PyDict_GetItemWithError(entries, lemma);  /* borrowed */
    if (entry != NULL)
        Py_INCREF(entry);
    else if (PyErr_Occurred() || (entry = PyObject_CallOneArg(make_entry, lemma)) == NULL)
        return NULL;
    if (!PyBytes_Check(entry) || PyBytes_GET_SIZE(entry) < 4 || PyBytes_GET_SIZE(entry) % 2) {
        Py_DECREF(entry);
        PyErr_SetString(PyExc_TypeError, "an entry must be bytes: the hash as uint32, then the buckets as uint16");
        return NULL;
    }
    return entry;
}

PyDoc_STRVAR(model_sums_doc,
"model_sums(lemmas, entries, make_entry, extra, weights, mask) -> (count, sums)\n\n"
"The learned model's bucket count and per-theme weight sums over a document's distinct buckets:\n"
"``CompiledModel.present`` followed by a gather and sum along each theme of ``weights``, in one pass.\n"
"``entries`` maps a lemma to bytes: its 32-bit hash, then its buckets as uint16 (``get_entry``);\n"
"``make_entry(lemma)`` makes and caches a missing one. An empty lemma has no buckets and breaks\n"
"the chain of word pairs. ``extra``: further bucket numbers (the concepts hit). ``weights``: a\n"
"C-contiguous float32 array of shape (mask + 1, themes): a bucket's weights side by side.\n"
"Sums are float64.");

static PyObject *
model_sums(PyObject *self, PyObject *args)
{
    PyObject *lemmas, *entries, *make_entry, *extra, *weights_obj;
    unsigned long long mask;
    if (!PyArg_ParseTuple(args, "O!O!OO!OK", &PyList_Type, &lemmas, &PyDict_Type, &entries, &make_entry,
                          &PyList_Type, &extra, &weights_obj, &mask))
        return NULL;
    Py_buffer wv;
    if (PyObject_GetBuffer(weights_obj, &wv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return NULL;
    PyObject *result = NULL;
    uint8_t *seen = NULL;
    double *sums = NULL;
    Py_ssize_t width = (Py_ssize_t)mask + 1;
    if (wv.ndim != 2 || wv.itemsize != 4 || strcmp(wv.format, "f") != 0 || wv.shape[0] != width) {
        PyErr_SetString(PyExc_ValueError, "weights must be float32 of shape (mask + 1, themes)");
        goto done;
    }
    Py_ssize_t themes = wv.shape[1];
    const float *weights = (const float *)wv.buf;
    seen = PyMem_Calloc((size_t)(width + 7) / 8, 1);
    sums = PyMem_Calloc((size_t)(themes ? themes : 1), sizeof(double));
    if (seen == NULL || sums == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t count = 0;
    int have_previous = 0;
    uint64_t previous = 0;
    Py_ssize_t n = PyList_GET_SIZE(lemmas);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *lemma = PyList_GET_ITEM(lemmas, i);
        if (!PyUnicode_Check(lemma)) {
            PyErr_SetString(PyExc_TypeError, "lemmas must be str");
            goto done;
        }
        if (PyUnicode_GET_LENGTH(lemma) == 0) {
            have_previous = 0;
            continue;
        }
        PyObject *entry = get_entry(entries, make_entry, lemma);
        if (entry == NULL)
            goto done;
        Py_ssize_t k;
        const uint16_t *buckets = entry_buckets(entry, &k);
        uint64_t hashed = entry_hash(entry);
        for (Py_ssize_t j = 0; j < k; j++)
            add_bucket(buckets[j] & mask, seen, &count, weights, themes, width, sums);
        Py_DECREF(entry);
        if (have_previous)
            add_bucket(((previous * PAIR_MIX) ^ hashed) & mask, seen, &count, weights, themes, width, sums);
        previous = hashed;
        have_previous = 1;
    }
    Py_ssize_t m = PyList_GET_SIZE(extra);
    for (Py_ssize_t i = 0; i < m; i++) {
        unsigned long long bucket = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(extra, i));
        if (bucket == (unsigned long long)-1 && PyErr_Occurred())
            goto done;
        add_bucket(bucket & mask, seen, &count, weights, themes, width, sums);
    }
    PyObject *values = PyTuple_New(themes);
    if (values == NULL)
        goto done;
    for (Py_ssize_t t = 0; t < themes; t++) {
        PyObject *v = PyFloat_FromDouble(sums[t]);
        if (v == NULL) {
            Py_DECREF(values);
            goto done;
        }
        PyTuple_SET_ITEM(values, t, v);
    }
    result = Py_BuildValue("(LN)", (long long)count, values);
done:
    PyMem_Free(seen);
    PyMem_Free(sums);
    PyBuffer_Release(&wv);
    return result;
}

PyDoc_STRVAR(model_gains_doc,
"model_gains(lemmas, entries, make_entry, weights, mask, column) -> list[float]\n\n"
"What each word adds to one theme's sum (``CompiledModel.evidence``): the weights of its own buckets\n"
"and of the pair it ends, in column ``column`` of ``weights``; ``0.0`` for an empty lemma. The\n"
"arguments are ``model_sums``'s.");

static PyObject *
model_gains(PyObject *self, PyObject *args)
{
    PyObject *lemmas, *entries, *make_entry, *weights_obj;
    unsigned long long mask;
    Py_ssize_t column;
    if (!PyArg_ParseTuple(args, "O!O!OOKn", &PyList_Type, &lemmas, &PyDict_Type, &entries, &make_entry,
                          &weights_obj, &mask, &column))
        return NULL;
    Py_buffer wv;
    if (PyObject_GetBuffer(weights_obj, &wv, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return NULL;
    PyObject *gains = NULL;
    Py_ssize_t width = (Py_ssize_t)mask + 1;
    if (wv.ndim != 2 || wv.itemsize != 4 || strcmp(wv.format, "f") != 0 || wv.shape[0] != width
        || column < 0 || column >= wv.shape[1]) {
        PyErr_SetString(PyExc_ValueError, "weights must be float32 of shape (mask + 1, themes), column one of them");
        goto fail;
    }
    Py_ssize_t themes = wv.shape[1];
    const float *weights = (const float *)wv.buf;
    Py_ssize_t n = PyList_GET_SIZE(lemmas);
    gains = PyList_New(n);
    if (gains == NULL)
        goto fail;
    int have_previous = 0;
    uint64_t previous = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *lemma = PyList_GET_ITEM(lemmas, i);
        double gain = 0.0;
        if (!PyUnicode_Check(lemma)) {
            PyErr_SetString(PyExc_TypeError, "lemmas must be str");
            goto fail;
        }
        if (PyUnicode_GET_LENGTH(lemma) == 0) {
            have_previous = 0;
        } else {
            PyObject *entry = get_entry(entries, make_entry, lemma);
            if (entry == NULL)
                goto fail;
            Py_ssize_t k;
            const uint16_t *buckets = entry_buckets(entry, &k);
            uint64_t hashed = entry_hash(entry);
            for (Py_ssize_t j = 0; j < k; j++)
                gain += (double)weights[(Py_ssize_t)(buckets[j] & mask) * themes + column];
            Py_DECREF(entry);
            if (have_previous)
                gain += (double)weights[(Py_ssize_t)(((previous * PAIR_MIX) ^ hashed) & mask) * themes + column];
            previous = hashed;
            have_previous = 1;
        }
        PyObject *value = PyFloat_FromDouble(gain);
        if (value == NULL)
            goto fail;
        PyList_SET_ITEM(gains, i, value);
    }
    PyBuffer_Release(&wv);
    return gains;
fail:
    Py_XDECREF(gains);
    PyBuffer_Release(&wv);
    return NULL;
}

static inline int
is_word(Py_UCS4 c)
{
    /* What ``\\w`` matches in a ``re`` str pattern. */
    return c == '_' || Py_UNICODE_ISALNUM(c);
}

PyDoc_STRVAR(spaces_doc,
"spaces(folded) -> (text, breaks, shifts)\n\n"
"``normalize``'s last step (twin: ``normalize._spaces``): every character that is not a word\n"
"character becomes a space, an apostrophe too unless a word character stands on each side, and\n"
"each run of spaces one space; ``breaks``/``shifts`` as ``NormalizedText`` keeps them.");

static PyObject *
spaces(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "spaces() takes a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(arg);
    int kind = PyUnicode_KIND(arg);
    const void *data = PyUnicode_DATA(arg);
    PyObject *breaks = PyList_New(0), *shifts = PyList_New(0), *text = NULL;
    void *out = PyMem_Malloc((size_t)(n ? n : 1) * (size_t)kind);
    if (breaks == NULL || shifts == NULL || out == NULL) {
        if (out == NULL)
            PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t written = 0, run = 0, shift = 0;
    int before = 0;  /* whether the previous input character is a word character */
    /* i == n ends the last run of spaces like a word character would, and writes nothing. */
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 kept = 0;
        if (i < n) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            int word = is_word(c);
            kept = ' ';
            if (word || (c == '\'' && before && i + 1 < n && is_word(PyUnicode_READ(kind, data, i + 1))))
                kept = c;
            before = word;
            if (kept == ' ') {
                if (run++ == 0)
                    PyUnicode_WRITE(kind, out, written++, ' ');
                continue;
            }
        }
        if (run >= 2) {
            shift += run - 1;
            PyObject *b = PyLong_FromSsize_t(written), *s = PyLong_FromSsize_t(shift);
            int bad = b == NULL || s == NULL || PyList_Append(breaks, b) < 0 || PyList_Append(shifts, s) < 0;
            Py_XDECREF(b);
            Py_XDECREF(s);
            if (bad)
                goto fail;
        }
        run = 0;
        if (i < n)
            PyUnicode_WRITE(kind, out, written++, kept);
    }
    text = PyUnicode_FromKindAndData(kind, out, written);
    if (text == NULL)
        goto fail;
    PyMem_Free(out);
    return Py_BuildValue("(NNN)", text, breaks, shifts);
fail:
    PyMem_Free(out);
    Py_XDECREF(breaks);
    Py_XDECREF(shifts);
    return NULL;
}

static PyMethodDef methods[] = {
    {"spaces", spaces, METH_O, spaces_doc},
    {"model_sums", model_sums, METH_VARARGS, model_sums_doc},
    {"model_gains", model_gains, METH_VARARGS, model_gains_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streams.rules._native", "The rule engine's per-document loops in C.", -1, methods, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    return PyModule_Create(&module);
}
