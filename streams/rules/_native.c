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

/* A model has at most 2**16 buckets (``TextModel.bits`` <= 16): every bucket number is masked below
 * that, which bounds the bitmap and every read of the weights. */
#define MAX_WIDTH 65536

/* Mark one bucket (already masked below the weights' width) in the bitmap ``seen``: 1, counted, when it
 * is its first mark, else 0. */
static inline int
mark_bucket(uint64_t bucket, uint8_t *seen, int64_t *count)
{
    if (seen[bucket >> 3] & (1u << (bucket & 7)))
        return 0;
    seen[bucket >> 3] |= (uint8_t)(1u << (bucket & 7));
    (*count)++;
    return 1;
}

/* Add (sign 1) or take back (sign -1) one bucket's weight in every theme. The sums are float64; the
 * weights come from float16, so each sum is exact and equals the twin's numpy sum in any order. */
static inline void
add_weights(uint64_t bucket, double sign, const float *weights, Py_ssize_t themes, double *sums)
{
    for (Py_ssize_t t = 0; t < themes; t++)
        sums[t] += sign * (double)weights[(Py_ssize_t)bucket * themes + t];
}

/* The bucket of the word pair whose left word hashes to ``left`` (twin: ``model.pair_bucket``). */
static inline uint64_t
pair_bucket(uint64_t left, uint64_t right, unsigned long long mask)
{
    return ((left * PAIR_MIX) ^ right) & mask;
}

/* A word's entry (``CompiledModel.entry``), bytes in native order: the lemma's 32-bit hash, then the
 * sums of its own buckets' weights per theme (float64, over its distinct buckets), then those buckets
 * as uint16 (a model has at most 2**16 buckets). Small, because a document reads one per word, and the
 * word scan hands them over with the lemmas (no lookup here). */
#define ENTRY_HEAD 4

static inline uint64_t
entry_hash(PyObject *entry)
{
    uint32_t hashed;
    memcpy(&hashed, PyBytes_AS_STRING(entry), sizeof hashed);
    return hashed;
}

static inline double
entry_sum(PyObject *entry, Py_ssize_t t)
{
    double sum;
    memcpy(&sum, PyBytes_AS_STRING(entry) + ENTRY_HEAD + t * sizeof(double), sizeof sum);
    return sum;
}

static inline Py_ssize_t
entry_size(PyObject *entry, Py_ssize_t themes)
{
    return (PyBytes_GET_SIZE(entry) - ENTRY_HEAD - themes * (Py_ssize_t)sizeof(double)) / 2;
}

static inline uint64_t
entry_bucket(PyObject *entry, Py_ssize_t themes, Py_ssize_t j)
{
    uint16_t bucket;
    memcpy(&bucket, PyBytes_AS_STRING(entry) + ENTRY_HEAD + themes * sizeof(double) + 2 * j, sizeof bucket);
    return bucket;
}

/* The weights (a new buffer view the caller releases): float32, C-contiguous, aligned, of shape
 * (mask + 1, themes), mask below MAX_WIDTH. -1 with an exception set otherwise. */
static int
get_weights(PyObject *obj, unsigned long long mask, Py_buffer *view)
{
    if (mask >= MAX_WIDTH) {
        PyErr_SetString(PyExc_ValueError, "mask must be below 2**16");
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_ND) < 0)
        return -1;
    if (view->ndim != 2 || view->itemsize != 4 || strcmp(view->format, "f") != 0
        || view->shape[0] != (Py_ssize_t)mask + 1 || ((uintptr_t)view->buf % _Alignof(float)) != 0) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "weights must be aligned float32 of shape (mask + 1, themes)");
        return -1;
    }
    return 0;
}

/* Checks every item of ``entries`` (a list): None, or bytes laid out for ``themes`` themes. 0, or -1 with
 * an exception set. Run before the walks, which then read without checks (no Python code runs in them). */
static int
check_entries(PyObject *entries, Py_ssize_t themes)
{
    Py_ssize_t head = ENTRY_HEAD + themes * (Py_ssize_t)sizeof(double);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (entry == Py_None)
            continue;
        if (!PyBytes_Check(entry) || PyBytes_GET_SIZE(entry) < head || (PyBytes_GET_SIZE(entry) - head) % 2) {
            PyErr_SetString(PyExc_TypeError, "an entry must be None or bytes: the hash as uint32, the sums of "
                                             "its buckets' weights as float64 per theme, then the buckets as uint16");
            return -1;
        }
    }
    return 0;
}

PyDoc_STRVAR(model_sums_doc,
"model_sums(entries, extra, weights, mask) -> (count, sums)\n\n"
"The learned model's bucket count and per-theme weight sums over a document's distinct buckets:\n"
"``CompiledModel.present`` followed by a gather and sum along each theme of ``weights``, in one pass.\n"
"``entries``: one per word, ``CompiledModel.entry`` of its lemma, or None for an empty word (no\n"
"buckets, and it breaks the chain of word pairs). ``extra``: further bucket numbers (the concepts\n"
"hit). ``weights``: a C-contiguous float32 array of shape (mask + 1, themes): a bucket's weights side\n"
"by side. Sums are float64.");

static PyObject *
model_sums(PyObject *self, PyObject *args)
{
    PyObject *entries, *extra, *weights_obj;
    unsigned long long mask;
    if (!PyArg_ParseTuple(args, "O!O!OK", &PyList_Type, &entries, &PyList_Type, &extra, &weights_obj, &mask))
        return NULL;
    Py_buffer wv;
    if (get_weights(weights_obj, mask, &wv) < 0)
        return NULL;
    PyObject *result = NULL;
    uint8_t *seen = NULL;
    double *sums = NULL;
    Py_ssize_t themes = wv.shape[1];
    const float *weights = (const float *)wv.buf;
    if (check_entries(entries, themes) < 0)
        goto done;
    seen = PyMem_Calloc(((size_t)mask + 8) / 8, 1);  /* mask < MAX_WIDTH: get_weights */
    sums = PyMem_Calloc((size_t)(themes ? themes : 1), sizeof(double));
    if (seen == NULL || sums == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* A word adds its own buckets' sums at once, then takes back the weights of those an earlier word
     * already brought. Weights are float16 values, so every sum and difference is exact and the result
     * equals the twin's sum over distinct buckets. No Python code runs until the result is built. */
    int64_t count = 0;
    int have_previous = 0;
    uint64_t previous = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (entry == Py_None) {
            have_previous = 0;
            continue;
        }
        for (Py_ssize_t t = 0; t < themes; t++)
            sums[t] += entry_sum(entry, t);
        for (Py_ssize_t j = 0; j < entry_size(entry, themes); j++) {
            uint64_t bucket = entry_bucket(entry, themes, j) & mask;
            if (!mark_bucket(bucket, seen, &count))
                add_weights(bucket, -1.0, weights, themes, sums);
        }
        uint64_t hashed = entry_hash(entry);
        uint64_t pair = pair_bucket(previous, hashed, mask);
        if (have_previous && mark_bucket(pair, seen, &count))
            add_weights(pair, 1.0, weights, themes, sums);
        previous = hashed;
        have_previous = 1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(extra); i++) {
        unsigned long long bucket = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(extra, i));
        if (bucket == (unsigned long long)-1 && PyErr_Occurred())
            goto done;
        if (mark_bucket(bucket & mask, seen, &count))
            add_weights(bucket & mask, 1.0, weights, themes, sums);
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
"model_gains(entries, weights, mask, column) -> list[float]\n\n"
"What each word adds to one theme's sum (``CompiledModel.evidence``): the weights of its own buckets\n"
"and of the pair it ends, in column ``column`` of ``weights``; ``0.0`` for an empty word (None). The\n"
"arguments are ``model_sums``'s.");

static PyObject *
model_gains(PyObject *self, PyObject *args)
{
    PyObject *entries, *weights_obj;
    unsigned long long mask;
    Py_ssize_t column;
    if (!PyArg_ParseTuple(args, "O!OKn", &PyList_Type, &entries, &weights_obj, &mask, &column))
        return NULL;
    Py_buffer wv;
    if (get_weights(weights_obj, mask, &wv) < 0)
        return NULL;
    PyObject *result = NULL;
    double *gains = NULL;
    Py_ssize_t themes = wv.shape[1];
    const float *weights = (const float *)wv.buf;
    if (column < 0 || column >= themes) {
        PyErr_SetString(PyExc_ValueError, "column must be one of the weights' themes");
        goto done;
    }
    if (check_entries(entries, themes) < 0)
        goto done;
    /* Collected in C and turned into a list at the end: allocating the floats may run the garbage
     * collector, and so Python code, only after the walk. */
    Py_ssize_t n = PyList_GET_SIZE(entries);
    gains = PyMem_Calloc((size_t)(n ? n : 1), sizeof(double));
    if (gains == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int have_previous = 0;
    uint64_t previous = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (entry == Py_None) {
            have_previous = 0;
            continue;
        }
        gains[i] = entry_sum(entry, column);
        uint64_t hashed = entry_hash(entry);
        if (have_previous)
            gains[i] += (double)weights[(Py_ssize_t)pair_bucket(previous, hashed, mask) * themes + column];
        previous = hashed;
        have_previous = 1;
    }
    result = PyList_New(n);
    if (result == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyFloat_FromDouble(gains[i]);
        if (value == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, i, value);
    }
done:
    PyMem_Free(gains);
    PyBuffer_Release(&wv);
    return result;
}

/* Whether each of the first WORD_TABLE code points (Latin-1 and Cyrillic: nearly every character of an English,
 * Russian or Ukrainian text) is a word character, filled at import from ``Py_UNICODE_ISALNUM``: a lookup instead
 * of up to four calls into Python's character database per character (the space after a word runs all four). */
#define WORD_TABLE 0x500
static unsigned char word_table[WORD_TABLE];

static inline int
is_word(Py_UCS4 c)
{
    /* What ``\\w`` matches in a ``re`` str pattern. */
    if (c < WORD_TABLE)
        return word_table[c];
    return c == '_' || Py_UNICODE_ISALNUM(c);
}

/* One spelling for apostrophes, quotes and dashes, and ё as е (twin: ``normalize._REPLACE``, which names the
 * same characters). */
static inline Py_UCS4
one_spelling(Py_UCS4 c)
{
    if (c < 0x60 || (c >= 0x0400 && c < 0x0500 && c != 0x0451))
        return c;
    switch (c) {
    case 0x02bc: case 0x2019: case 0x2018: case 0x201b: case 0x0060: case 0x00b4: case 0x2032: case 0xff07:
        return '\'';
    case 0x201c: case 0x201d: case 0x201e: case 0x201f: case 0x00ab: case 0x00bb: case 0x2033: case 0x2039:
    case 0x203a:
        return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212: case 0xfe58:
    case 0xfe63: case 0xff0d:
        return '-';
    case 0x0451:
        return 0x0435;
    default:
        return c;
    }
}

PyDoc_STRVAR(spaces_doc,
"spaces(folded) -> (text, breaks, shifts)\n\n"
"``normalize``'s last step (twin: ``normalize._spaces``): apostrophes, quotes and dashes spelled one way\n"
"and ё as е (``normalize._REPLACE``), then every character that is not a word\n"
"character becomes a space, an underscore too outside an @handle, an apostrophe too unless a word\n"
"character stands on each side, and each run of spaces one space; ``breaks``/``shifts`` as\n"
"``NormalizedText`` keeps them.");

static PyObject *
spaces(PyObject *self, PyObject *arg)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "spaces() takes a str");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(arg) < 0)  /* legacy strings made through deprecated C APIs */
        return NULL;
#endif
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
    int handle = 0;  /* inside an @handle, whose underscores stay part of it (``@\\w+``) */
    /* Each character is read and spelled once: the next one is carried to the next step. */
    Py_UCS4 next = n ? one_spelling(PyUnicode_READ(kind, data, 0)) : 0;
    /* i == n ends the last run of spaces like a word character would, and writes nothing. */
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_UCS4 kept = 0;
        if (i < n) {
            Py_UCS4 c = next;
            next = i + 1 < n ? one_spelling(PyUnicode_READ(kind, data, i + 1)) : 0;
            int c_word = is_word(c);
            /* An underscore outside an @handle separates words (a hashtag's: "#ядерний_шантаж"). */
            int word = c == '_' ? handle : c_word;
            if (c == '@')
                handle = i + 1 < n && is_word(next);
            else if (!c_word)
                handle = 0;
            kept = ' ';
            /* After an apostrophe no handle goes on, so an underscore there is a separator. */
            if (word || (c == '\'' && before && i + 1 < n && next != '_' && is_word(next)))
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

/* --- word_hits ---------------------------------------------------------------------------------- */

/* Whether two str objects are equal (both known to be str). */
static inline int
same_word(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (PyUnicode_GET_LENGTH(a) != PyUnicode_GET_LENGTH(b))
        return 0;
    return PyUnicode_Compare(a, b) == 0;
}

/* Append (start, end) to hits[pid] unless it is there already. 0, or -1 with an exception set. */
static int
add_span(PyObject *hits, PyObject *pid, Py_ssize_t start, Py_ssize_t end)
{
    if (!PyLong_CheckExact(pid)) {  /* no __hash__ or __eq__ of ours to run mid-loop */
        PyErr_SetString(PyExc_TypeError, "phrase ids must be int");
        return -1;
    }
    PyObject *spans = PyDict_GetItemWithError(hits, pid);  /* borrowed */
    if (spans == NULL) {
        if (PyErr_Occurred())
            return -1;
        spans = PyList_New(0);
        if (spans == NULL)
            return -1;
        int bad = PyDict_SetItem(hits, pid, spans);
        Py_DECREF(spans);  /* the dict holds it */
        if (bad < 0)
            return -1;
    }
    else {
        for (Py_ssize_t k = 0; k < PyList_GET_SIZE(spans); k++) {
            PyObject *span = PyList_GET_ITEM(spans, k);
            if (PyTuple_Check(span) && PyTuple_GET_SIZE(span) == 2
                && PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0)) == start
                && PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1)) == end)
                return 0;
        }
        if (PyErr_Occurred())
            return -1;
    }
    PyObject *span = Py_BuildValue("(nn)", start, end);
    if (span == NULL)
        return -1;
    int bad = PyList_Append(spans, span);
    Py_DECREF(span);
    return bad;
}

/* Add every id of the tuple ``pids`` with one span. */
static int
add_spans(PyObject *hits, PyObject *pids, Py_ssize_t start, Py_ssize_t end)
{
    if (!PyTuple_Check(pids)) {
        PyErr_SetString(PyExc_TypeError, "phrase ids must be a tuple");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(pids); k++)
        if (add_span(hits, PyTuple_GET_ITEM(pids, k), start, end) < 0)
            return -1;
    return 0;
}

/* A word's info checked: (lemma: str, entry: bytes | None), or those followed by (singles: tuple,
 * by_next: dict, loose: tuple, by_next_lemma: dict) when the word starts a key (``words.Starts``). The lemma
 * is an exact str: looking it up in ``by_next_lemma`` must run no Python code. */
static int
check_info(PyObject *info)
{
    if (PyTuple_Check(info) && (PyTuple_GET_SIZE(info) == 2 || PyTuple_GET_SIZE(info) == 6)
        && PyUnicode_CheckExact(PyTuple_GET_ITEM(info, 0))
        && (PyTuple_GET_ITEM(info, 1) == Py_None || PyBytes_Check(PyTuple_GET_ITEM(info, 1)))) {
        if (PyTuple_GET_SIZE(info) == 2)
            return 0;
        if (PyTuple_Check(PyTuple_GET_ITEM(info, 2)) && PyTuple_GET_SIZE(PyTuple_GET_ITEM(info, 2)) % 2 == 0
            && PyDict_CheckExact(PyTuple_GET_ITEM(info, 3)) && PyTuple_Check(PyTuple_GET_ITEM(info, 4))
            && PyDict_CheckExact(PyTuple_GET_ITEM(info, 5)))
            return 0;
    }
    PyErr_SetString(PyExc_TypeError, "a word's info must be (lemma, entry) or "
                                     "(lemma, entry, singles, by_next, loose, by_next_lemma)");
    return -1;
}

/* ``by_next[key]`` (borrowed), an empty tuple when absent; NULL with an exception set when the value is
 * not a tuple. ``key`` is an exact str, so the lookup runs no Python code. */
static PyObject *
candidates_after(PyObject *by_next, PyObject *key)
{
    static PyObject *none = NULL;
    if (none == NULL && (none = PyTuple_New(0)) == NULL)
        return NULL;
    if (PyDict_GET_SIZE(by_next) == 0)
        return none;
    PyObject *found = PyDict_GetItemWithError(by_next, key);
    if (found == NULL)
        return PyErr_Occurred() ? NULL : none;
    if (!PyTuple_Check(found)) {
        PyErr_SetString(PyExc_TypeError, "a word's candidates must be a tuple");
        return NULL;
    }
    return found;
}

/* Whether the str items of ``seq`` (a list) from ``first`` on equal the first ``count`` items of the
 * tuple ``key``; -1 with an exception set when an item is not a str. */
static int
words_equal(PyObject *seq, Py_ssize_t first, PyObject *key, Py_ssize_t count)
{
    for (Py_ssize_t j = 0; j < count; j++) {
        PyObject *a = PyList_GET_ITEM(seq, first + j), *b = PyTuple_GET_ITEM(key, j);
        if (!PyUnicode_Check(b)) {
            PyErr_SetString(PyExc_TypeError, "a key's words must be str");
            return -1;
        }
        if (!same_word(a, b))
            return 0;
    }
    return 1;
}

static int
word_multi(PyObject *hits, PyObject *words, Py_ssize_t i, const Py_ssize_t *starts, PyObject *multi)
{
    Py_ssize_t n = PyList_GET_SIZE(words);
    for (Py_ssize_t m = 0; m < PyTuple_GET_SIZE(multi); m++) {
        PyObject *cand = PyTuple_GET_ITEM(multi, m);
        if (!PyTuple_Check(cand) || PyTuple_GET_SIZE(cand) != 3 || !PyTuple_Check(PyTuple_GET_ITEM(cand, 0))) {
            PyErr_SetString(PyExc_TypeError, "a key as written must be (rest, prefix, pids)");
            return -1;
        }
        PyObject *rest = PyTuple_GET_ITEM(cand, 0);
        Py_ssize_t k = PyTuple_GET_SIZE(rest), last = i + k;
        if (k == 0 || last >= n)
            continue;
        int equal = words_equal(words, i + 1, rest, k - 1);
        if (equal <= 0) {
            if (equal < 0)
                return -1;
            continue;
        }
        int prefix = PyTuple_GET_ITEM(cand, 1) == Py_True;
        if (!prefix && PyTuple_GET_ITEM(cand, 1) != Py_False) {
            PyErr_SetString(PyExc_TypeError, "a key's prefix flag must be a bool");
            return -1;
        }
        PyObject *word = PyList_GET_ITEM(words, last), *key_word = PyTuple_GET_ITEM(rest, k - 1);
        if (!PyUnicode_Check(key_word)) {
            PyErr_SetString(PyExc_TypeError, "a key's words must be str");
            return -1;
        }
        Py_ssize_t stop = starts[last] + PyUnicode_GET_LENGTH(word);
        Py_ssize_t wn = PyUnicode_GET_LENGTH(word), kn = PyUnicode_GET_LENGTH(key_word);
        if (!same_word(word, key_word)) {
            Py_ssize_t head = PyUnicode_Tailmatch(word, key_word, 0, prefix ? PY_SSIZE_T_MAX : kn, -1);
            if (head < 0)
                return -1;
            /* A prefix key's word may go on; an exact key's word may only add the possessive 's. */
            if (!head || (!prefix && !(wn == kn + 2 && PyUnicode_READ_CHAR(word, kn) == '\''
                                       && PyUnicode_READ_CHAR(word, kn + 1) == 's')))
                continue;
            if (!prefix)
                stop -= 2;
        }
        if (add_spans(hits, PyTuple_GET_ITEM(cand, 2), starts[i], stop) < 0)
            return -1;
    }
    return 0;
}

static int
word_lemma_multi(PyObject *hits, PyObject *words, PyObject *lemmas, Py_ssize_t i, const Py_ssize_t *starts,
                 PyObject *lemma_multi)
{
    Py_ssize_t n = PyList_GET_SIZE(lemmas);
    for (Py_ssize_t m = 0; m < PyTuple_GET_SIZE(lemma_multi); m++) {
        PyObject *cand = PyTuple_GET_ITEM(lemma_multi, m);
        if (!PyTuple_Check(cand) || PyTuple_GET_SIZE(cand) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(cand, 0))) {
            PyErr_SetString(PyExc_TypeError, "a key by lemma must be (rest, pids)");
            return -1;
        }
        PyObject *rest = PyTuple_GET_ITEM(cand, 0);
        Py_ssize_t k = PyTuple_GET_SIZE(rest), last = i + k;
        if (k == 0 || last >= n)
            continue;
        int equal = words_equal(lemmas, i + 1, rest, k);
        if (equal < 0)
            return -1;
        if (equal && add_spans(hits, PyTuple_GET_ITEM(cand, 1), starts[i],
                               starts[last] + PyUnicode_GET_LENGTH(PyList_GET_ITEM(words, last))) < 0)
            return -1;
    }
    return 0;
}

PyDoc_STRVAR(word_hits_doc,
"word_hits(words, infos) -> (hits, lemmas, entries)\n\n"
"The phrase hits of a normalised text's words, each word's lemma and its model entry (twin:\n"
"``words.word_hits``):\n"
"``infos[word]`` (a ``WordInfos``, which fills itself on a miss) says what each word starts.");

static PyObject *
word_hits(PyObject *self, PyObject *args)
{
    PyObject *words, *infos;
    if (!PyArg_ParseTuple(args, "O!O!:word_hits", &PyList_Type, &words, &PyDict_Type, &infos))
        return NULL;
    /* Python code runs only in infos.__missing__ (pass one), and it may change ``words``: pass one keeps
     * its own list of the words it looked up (exact str, whose hashing and comparing run no Python code),
     * and pass two reads only that list and the others it built, filled by appending (no empty slots for
     * code that reaches them through the garbage collector). */
    Py_ssize_t n = PyList_GET_SIZE(words);
    PyObject *own = PyList_New(0), *lemmas = PyList_New(0), *entries = PyList_New(0), *found = PyList_New(0);
    PyObject *hits = PyDict_New();
    Py_ssize_t *starts = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    if (own == NULL || lemmas == NULL || entries == NULL || found == NULL || hits == NULL || starts == NULL) {
        if (starts == NULL)
            PyErr_NoMemory();
        goto fail;
    }
    /* First every word's info and lemma (a key by lemma reads the lemmas of the words after it). */
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_SIZE(words) != n) {
            PyErr_SetString(PyExc_RuntimeError, "words changed size during word_hits");
            goto fail;
        }
        PyObject *word = PyList_GET_ITEM(words, i);
        if (!PyUnicode_CheckExact(word)) {
            PyErr_SetString(PyExc_TypeError, "words must be str");
            goto fail;
        }
        Py_INCREF(word);  /* __missing__ runs Python code, which could drop the list's reference */
        PyObject *info = PyDict_GetItemWithError(infos, word);  /* borrowed */
        if (info != NULL)
            Py_INCREF(info);
        else if (!PyErr_Occurred())
            info = PyObject_GetItem(infos, word);
        int bad = info == NULL || PyList_Append(own, word) < 0 || PyList_Append(found, info) < 0
                  || check_info(info) < 0 || PyList_Append(lemmas, PyTuple_GET_ITEM(info, 0)) < 0
                  || PyList_Append(entries, PyTuple_GET_ITEM(info, 1)) < 0;
        starts[i] = pos;
        pos += PyUnicode_GET_LENGTH(word) + 1;
        Py_XDECREF(info);
        Py_DECREF(word);
        if (bad)
            goto fail;
    }
    words = own;  /* pass two: the words as looked up */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *info = PyList_GET_ITEM(found, i);
        if (PyTuple_GET_SIZE(info) == 2)
            continue;
        PyObject *singles = PyTuple_GET_ITEM(info, 2);
        Py_ssize_t end = starts[i] + PyUnicode_GET_LENGTH(PyList_GET_ITEM(words, i));
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(singles); k += 2) {
            Py_ssize_t cut = PyLong_AsSsize_t(PyTuple_GET_ITEM(singles, k + 1));
            if (cut == -1 && PyErr_Occurred())
                goto fail;
            if (add_span(hits, PyTuple_GET_ITEM(singles, k), starts[i], end - cut) < 0)
                goto fail;
        }
        if (i + 1 == n)
            continue;
        /* The keys the next word can continue: by it as written, those ending in a prefix, by its lemma. */
        PyObject *by_next = candidates_after(PyTuple_GET_ITEM(info, 3), PyList_GET_ITEM(words, i + 1));
        if (by_next == NULL || word_multi(hits, words, i, starts, by_next) < 0
            || word_multi(hits, words, i, starts, PyTuple_GET_ITEM(info, 4)) < 0)
            goto fail;
        PyObject *by_lemma = candidates_after(PyTuple_GET_ITEM(info, 5), PyList_GET_ITEM(lemmas, i + 1));
        if (by_lemma == NULL || word_lemma_multi(hits, words, lemmas, i, starts, by_lemma) < 0)
            goto fail;
    }
    PyMem_Free(starts);
    Py_DECREF(found);
    Py_DECREF(own);
    return Py_BuildValue("(NNN)", hits, lemmas, entries);
fail:
    PyMem_Free(starts);
    Py_XDECREF(own);
    Py_XDECREF(lemmas);
    Py_XDECREF(entries);
    Py_XDECREF(found);
    Py_XDECREF(hits);
    return NULL;
}

PyDoc_STRVAR(models_doc,
"models(cls, fields, items, nested) -> list\n\n"
"Each dict of ``items`` (fresh dicts, one per instance, that hold every field of the pydantic model ``cls``\n"
"and nothing else, in field order, each value already of its field's type) as a ``cls`` instance, set up as\n"
"pydantic's own validator sets one up (the type's ``tp_new`` with no arguments; the dict as ``__dict__``; a\n"
"new set of ``fields`` as the fields set; no extra, no private attributes) without checking the values again.\n"
"``nested``: None, or (key, cls, fields): each item's list of dicts under ``key`` is built first, the same way.\n"
"The dicts are consumed: each becomes its instance's ``__dict__`` and its nested list is replaced by the\n"
"instances, also when a later item fails. A dict whose size is not the number of fields is refused. The caller\n"
"vouches for the values; twin: the models' validators (``engine.hit_models`` without the C loops).");

static PyObject *s_fields_set, *s_extra, *s_private, *no_args;

static PyObject *
build_model(PyTypeObject *cls, PyObject *fields, PyObject *item)
{
    if (!PyDict_CheckExact(item)) {
        PyErr_SetString(PyExc_TypeError, "models: every item must be a dict");
        return NULL;
    }
    if (PyDict_GET_SIZE(item) != PySet_GET_SIZE(fields)) {
        PyErr_Format(PyExc_TypeError, "models: an item holds %zd keys for %zd fields", PyDict_GET_SIZE(item),
                     PySet_GET_SIZE(fields));
        return NULL;
    }
    PyObject *obj = cls->tp_new(cls, no_args, NULL);
    if (obj == NULL)
        return NULL;
    PyObject *set = PySet_New(fields);
    if (set == NULL || PyObject_GenericSetDict(obj, item, NULL) < 0
        || PyObject_GenericSetAttr(obj, s_extra, Py_None) < 0 || PyObject_GenericSetAttr(obj, s_private, Py_None) < 0
        || PyObject_GenericSetAttr(obj, s_fields_set, set) < 0) {
        Py_XDECREF(set);
        Py_DECREF(obj);
        return NULL;
    }
    Py_DECREF(set);
    return obj;
}

static PyObject *
build_models(PyObject *cls, PyObject *fields, PyObject *items, PyObject *nested)
{
    if (!PyType_Check(cls) || !PyFrozenSet_CheckExact(fields) || !PyList_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "models: expected a class, a frozenset of field names and a list");
        return NULL;
    }
    if (((PyTypeObject *)cls)->tp_new == NULL) {
        PyErr_SetString(PyExc_TypeError, "models: the class cannot be instantiated (no tp_new)");
        return NULL;
    }
    PyObject *key = NULL, *sub_cls = NULL, *sub_fields = NULL;
    if (nested != Py_None) {
        if (!PyTuple_Check(nested) || PyTuple_GET_SIZE(nested) != 3) {
            PyErr_SetString(PyExc_TypeError, "models: nested must be None or (key, cls, fields)");
            return NULL;
        }
        key = PyTuple_GET_ITEM(nested, 0);
        sub_cls = PyTuple_GET_ITEM(nested, 1);
        sub_fields = PyTuple_GET_ITEM(nested, 2);
    }
    /* A snapshot: allocating may run a finalizer that changes the caller's list. */
    PyObject *snapshot = PySequence_Tuple(items);
    if (snapshot == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(snapshot);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(snapshot, i);
        if (key != NULL) {
            if (!PyDict_CheckExact(item)) {
                PyErr_SetString(PyExc_TypeError, "models: every item must be a dict");
                goto fail;
            }
            PyObject *inner = PyDict_GetItemWithError(item, key); /* borrowed */
            if (inner == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_KeyError, "models: an item lacks its nested list");
                goto fail;
            }
            Py_INCREF(inner);
            PyObject *built = build_models(sub_cls, sub_fields, inner, Py_None);
            Py_DECREF(inner);
            if (built == NULL)
                goto fail;
            int bad = PyDict_SetItem(item, key, built);
            Py_DECREF(built);
            if (bad < 0)
                goto fail;
        }
        PyObject *obj = build_model((PyTypeObject *)cls, fields, item);
        if (obj == NULL)
            goto fail;
        PyList_SET_ITEM(out, i, obj);
    }
    Py_DECREF(snapshot);
    return out;
fail:
    Py_XDECREF(out);
    Py_DECREF(snapshot);
    return NULL;
}

static PyObject *
models(PyObject *self, PyObject *args)
{
    PyObject *cls, *fields, *items, *nested;
    if (!PyArg_ParseTuple(args, "OOOO:models", &cls, &fields, &items, &nested))
        return NULL;
    return build_models(cls, fields, items, nested);
}

PyDoc_STRVAR(shingles_doc,
"shingles(text, size, min_words) -> list\n\n"
"Every run of ``size`` consecutive words of ``text`` (split on whitespace as ``str.split()`` does), its\n"
"words joined by one space, in the text's order and repeated where the text repeats them (a MinHash\n"
"takes the minimum over them either way: a set would only cost the hashing); none when ``text`` has\n"
"fewer than ``min_words`` words (twin: ``streams/stories/grouping.word_shingles``). Where the words are\n"
"already one space apart, as in a normalised text, a shingle is a slice of ``text``, not a join.");

static PyObject *
shingles(PyObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t size, min_words;
    if (!PyArg_ParseTuple(args, "Unn:shingles", &text, &size, &min_words))
        return NULL;
    if (size < 1) {
        PyErr_SetString(PyExc_ValueError, "shingles() needs a size of at least 1");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    /* At most one word per two characters, plus one. */
    Py_ssize_t cap = n / 2 + 1, words = 0;
    Py_ssize_t *starts = PyMem_New(Py_ssize_t, cap), *ends = PyMem_New(Py_ssize_t, cap);
    PyObject *out = PyList_New(0), *space = NULL;
    if (starts == NULL || ends == NULL || out == NULL) {
        if (out != NULL)
            PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n;) {
        while (i < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
            i++;
        if (i == n)
            break;
        starts[words] = i;
        while (i < n && !Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i)))
            i++;
        ends[words++] = i;
    }
    if (words < min_words)
        words = 0;
    for (Py_ssize_t w = 0; w + size <= words; w++) {
        Py_ssize_t last = w + size - 1;
        int sliced = 1;
        for (Py_ssize_t k = w; k < last && sliced; k++)
            sliced = starts[k + 1] - ends[k] == 1 && PyUnicode_READ(kind, data, ends[k]) == ' ';
        PyObject *shingle;
        if (sliced) {
            shingle = PyUnicode_Substring(text, starts[w], ends[last]);
        } else {
            PyObject *parts = PyList_New(size);
            if (parts == NULL)
                goto fail;
            for (Py_ssize_t k = 0; k < size; k++) {
                PyObject *word = PyUnicode_Substring(text, starts[w + k], ends[w + k]);
                if (word == NULL) {
                    Py_DECREF(parts);
                    goto fail;
                }
                PyList_SET_ITEM(parts, k, word);
            }
            if (space == NULL && (space = PyUnicode_FromString(" ")) == NULL) {
                Py_DECREF(parts);
                goto fail;
            }
            shingle = PyUnicode_Join(space, parts);
            Py_DECREF(parts);
        }
        if (shingle == NULL)
            goto fail;
        int added = PyList_Append(out, shingle);
        Py_DECREF(shingle);
        if (added < 0)
            goto fail;
    }
    PyMem_Free(starts);
    PyMem_Free(ends);
    Py_XDECREF(space);
    return out;
fail:
    PyMem_Free(starts);
    PyMem_Free(ends);
    Py_XDECREF(space);
    Py_XDECREF(out);
    return NULL;
}

PyDoc_STRVAR(agreement_doc,
"agreement(a, b) -> int\n\n"
"The number of positions where two MinHash signatures hold the same value: two buffers of 4-byte\n"
"unsigned integers (``array('I')``) of one length (twin: ``sum(map(operator.eq, a, b))``, in\n"
"``streams/stories/grouping.similarity``).");

static PyObject *
agreement(PyObject *self, PyObject *args)
{
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO:agreement", &a, &b))
        return NULL;
    Py_buffer va, vb;
    if (PyObject_GetBuffer(a, &va, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (PyObject_GetBuffer(b, &vb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&va);
        return NULL;
    }
    PyObject *result = NULL;
    if (va.itemsize != 4 || vb.itemsize != 4 || va.format == NULL || vb.format == NULL
            || strcmp(va.format, "I") != 0 || strcmp(vb.format, "I") != 0 || va.len != vb.len) {
        PyErr_SetString(PyExc_ValueError, "agreement() takes two array('I') of one length");
    } else {
        const uint32_t *x = va.buf, *y = vb.buf;
        Py_ssize_t n = va.len / 4, same = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            same += x[i] == y[i];
        result = PyLong_FromSsize_t(same);
    }
    PyBuffer_Release(&va);
    PyBuffer_Release(&vb);
    return result;
}

static PyMethodDef methods[] = {
    {"spaces", spaces, METH_O, spaces_doc},
    {"model_sums", model_sums, METH_VARARGS, model_sums_doc},
    {"model_gains", model_gains, METH_VARARGS, model_gains_doc},
    {"word_hits", word_hits, METH_VARARGS, word_hits_doc},
    {"models", models, METH_VARARGS, models_doc},
    {"shingles", shingles, METH_VARARGS, shingles_doc},
    {"agreement", agreement, METH_VARARGS, agreement_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streams.rules._native", "The rule engine's per-document loops in C.", -1, methods, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC
PyInit__native(void)
{
    s_fields_set = PyUnicode_InternFromString("__pydantic_fields_set__");
    s_extra = PyUnicode_InternFromString("__pydantic_extra__");
    s_private = PyUnicode_InternFromString("__pydantic_private__");
    no_args = PyTuple_New(0);
    if (s_fields_set == NULL || s_extra == NULL || s_private == NULL || no_args == NULL)
        return NULL;
    for (Py_UCS4 c = 0; c < WORD_TABLE; c++)
        word_table[c] = c == '_' || Py_UNICODE_ISALNUM(c);
    return PyModule_Create(&module);
}
