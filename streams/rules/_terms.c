/* The rule engine's steps after the word scan in C, for speed only: ``analyse`` computes what
 * ``CompiledRules._concepts``, ``_themes`` and ``_entities`` (streams/rules/engine.py) define, from the same
 * phrase hits, and the tests compare the two on every labelled passage. The pack's concepts, terms,
 * patterns, contexts and entity variants are flattened once into a plan (``theme_plan``, built by
 * ``compile.native_theme_plan``); a document's work is then C arrays indexed by phrase and pattern, with
 * Python objects made only for what the caller keeps.
 *
 * A plan's scratch arrays serve one call at a time: a call that finds the plan busy (only possible if a
 * garbage collector's finalizer classified mid-call) works on scratch of its own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { PAT_PHRASE = 0, PAT_CHAIN = 1, PAT_NEAR = 2, PAT_EXCLUSION = 3 };

typedef struct {
    int kind;
    Py_ssize_t first, count; /* its ints in plan->ints: a phrase id; a chain's phrase ids; a NEAR's left,
                                right, distance; an exclusion's pattern, then its NOT patterns */
} Pattern;

typedef struct {
    int32_t pattern;
    Py_ssize_t first, count; /* phrase ids in plan->ints that must all be hit for it to match */
} Context;

typedef struct {
    Py_ssize_t first, count; /* its contexts in plan->contexts, in the order the engine tries them */
} ContextSet;

typedef struct {
    int32_t theme, pattern, partner, contexts; /* partner: a phrase, or -1; contexts: a set, or -1 */
    int phrase;                                /* whether the pattern is one phrase */
    double weight;
} Term;

typedef struct {
    int32_t s, e;
    PyObject *obj; /* the tuple (s, e): a hit's own, or made when first output; a reference owned */
} Span;

typedef struct {
    int32_t a, b; /* spans of the document (b = -1: a match of one part) */
} Match;

typedef struct {
    int32_t term;
    Py_ssize_t first, count; /* its kept matches in scratch->kept */
} Found;

typedef struct {
    int32_t entity, pattern;
    PyObject *exact; /* the spelling a case-sensitive variant requires (a str, owned), or NULL */
} EntityRef;

typedef struct {
    int32_t key, span; /* a concept or entity, and a span of the document */
} Pair;

/* A document's scratch. ``gen`` marks which entries of the per-phrase, per-pattern and per-set arrays
 * belong to the current document, so none is cleared between documents. */
typedef struct {
    uint32_t gen;
    uint32_t *hit_gen, *memo_gen, *ext_gen;
    Py_ssize_t *hit_first, *hit_count, *memo_first, *memo_count, *ext_first, *ext_count;
    Span *spans;
    Py_ssize_t nspans, capspans;
    Match *matches;
    Py_ssize_t nmatches, capmatches;
    int32_t *ext; /* extents, lo and hi side by side */
    Py_ssize_t next, capext;
    int32_t *kept; /* match indexes */
    Py_ssize_t nkept, capkept;
    Found *found;
    Py_ssize_t nfound, capfound;
    int32_t *hit_order; /* the phrases hit, in the hits dict's order */
    Py_ssize_t nhit_order, caphit_order;
    Pair *pairs; /* a concept's new spans, or an entity's mentions */
    Py_ssize_t npairs, cappairs;
    int32_t *keys; /* the concepts or entities of ``pairs``, in order of their first pair */
    Py_ssize_t nkeys, capkeys;
    int32_t *group; /* span indexes being sorted */
    Py_ssize_t ngroup, capgroup;
    int32_t *words; /* words[pos]: the index of the word at text position pos */
    Py_ssize_t capwords;
    int words_ready;
} Scratch;

typedef struct {
    Py_ssize_t nphrases, npatterns, nsets, nterms, nthemes;
    Pattern *patterns;
    int32_t *ints;
    Context *contexts;
    ContextSet *sets;
    Term *terms;
    Py_ssize_t *by_phrase_first; /* nphrases + 1 offsets into by_phrase */
    int32_t *by_phrase;
    int32_t *cautions; /* per theme: a set, or -1 */
    Py_ssize_t *member_first; /* nphrases + 1 offsets into members: concepts' members filed by first phrase */
    int32_t *members;         /* (concept phrase, chain pattern) pairs */
    uint8_t *is_concept;      /* per phrase */
    Py_ssize_t nentities;
    Py_ssize_t *entity_first; /* nphrases + 1 offsets into entities: entity patterns filed by first phrase */
    EntityRef *entities;
    Py_ssize_t nentity_refs;
    Scratch scratch;
    int busy;
} Plan;

#define PLAN_CAPSULE "watchfloor.theme_plan"

/* Make room for ``extra`` more items in a growing array. 0, or -1 with MemoryError set. */
static int
grow(void **items, Py_ssize_t *cap, Py_ssize_t used, Py_ssize_t extra, size_t size)
{
    if (used + extra <= *cap)
        return 0;
    Py_ssize_t want = *cap ? *cap : 64;
    while (want < used + extra)
        want *= 2;
    void *bigger = PyMem_Realloc(*items, (size_t)want * size);
    if (bigger == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *items = bigger;
    *cap = want;
    return 0;
}

#define GROW(s, arr, n, cap, extra) grow((void **)&(s)->arr, &(s)->cap, (s)->n, (extra), sizeof(*(s)->arr))

static int
scratch_init(Scratch *s, const Plan *p)
{
    memset(s, 0, sizeof *s);
    size_t np = (size_t)(p->nphrases ? p->nphrases : 1), nq = (size_t)(p->npatterns ? p->npatterns : 1);
    size_t ns = (size_t)(p->nsets ? p->nsets : 1);
    s->hit_gen = PyMem_Calloc(np, sizeof(uint32_t));
    s->memo_gen = PyMem_Calloc(nq, sizeof(uint32_t));
    s->ext_gen = PyMem_Calloc(ns, sizeof(uint32_t));
    s->hit_first = PyMem_Calloc(np, sizeof(Py_ssize_t));
    s->hit_count = PyMem_Calloc(np, sizeof(Py_ssize_t));
    s->memo_first = PyMem_Calloc(nq, sizeof(Py_ssize_t));
    s->memo_count = PyMem_Calloc(nq, sizeof(Py_ssize_t));
    s->ext_first = PyMem_Calloc(ns, sizeof(Py_ssize_t));
    s->ext_count = PyMem_Calloc(ns, sizeof(Py_ssize_t));
    if (!s->hit_gen || !s->memo_gen || !s->ext_gen || !s->hit_first || !s->hit_count || !s->memo_first
        || !s->memo_count || !s->ext_first || !s->ext_count) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
scratch_free(Scratch *s)
{
    PyMem_Free(s->hit_gen);
    PyMem_Free(s->memo_gen);
    PyMem_Free(s->ext_gen);
    PyMem_Free(s->hit_first);
    PyMem_Free(s->hit_count);
    PyMem_Free(s->memo_first);
    PyMem_Free(s->memo_count);
    PyMem_Free(s->ext_first);
    PyMem_Free(s->ext_count);
    PyMem_Free(s->spans);
    PyMem_Free(s->matches);
    PyMem_Free(s->ext);
    PyMem_Free(s->kept);
    PyMem_Free(s->found);
    PyMem_Free(s->hit_order);
    PyMem_Free(s->pairs);
    PyMem_Free(s->keys);
    PyMem_Free(s->group);
    PyMem_Free(s->words);
    memset(s, 0, sizeof *s);
}

/* Begin a document: a new generation (every entry of the old ones reads as absent) and empty arenas. */
static void
scratch_begin(Scratch *s, const Plan *p)
{
    if (++s->gen == 0) { /* wrapped: entries stamped 2**32 documents ago must not read as current */
        memset(s->hit_gen, 0, (size_t)(p->nphrases ? p->nphrases : 1) * sizeof(uint32_t));
        memset(s->memo_gen, 0, (size_t)(p->npatterns ? p->npatterns : 1) * sizeof(uint32_t));
        memset(s->ext_gen, 0, (size_t)(p->nsets ? p->nsets : 1) * sizeof(uint32_t));
        s->gen = 1;
    }
    s->nspans = s->nmatches = s->next = s->nkept = s->nfound = s->nhit_order = 0;
    s->words_ready = 0;
}

/* Past this many items an arena is freed after its document, so that one huge document does not leave
 * its buffers held by the plan for the life of the process. */
#define KEEP_ITEMS (1 << 16)

static void
release_big(void **items, Py_ssize_t *cap)
{
    if (*cap > KEEP_ITEMS) {
        PyMem_Free(*items);
        *items = NULL;
        *cap = 0;
    }
}

/* Drop the references the document's spans hold, and the arenas a huge document grew. */
static void
scratch_end(Scratch *s)
{
    for (Py_ssize_t i = 0; i < s->nspans; i++)
        Py_CLEAR(s->spans[i].obj);
    s->nspans = 0;
    release_big((void **)&s->spans, &s->capspans);
    release_big((void **)&s->matches, &s->capmatches);
    release_big((void **)&s->ext, &s->capext);
    release_big((void **)&s->kept, &s->capkept);
    release_big((void **)&s->found, &s->capfound);
    release_big((void **)&s->hit_order, &s->caphit_order);
    release_big((void **)&s->pairs, &s->cappairs);
    release_big((void **)&s->keys, &s->capkeys);
    release_big((void **)&s->group, &s->capgroup);
    release_big((void **)&s->words, &s->capwords);
}

static void
plan_free(Plan *p)
{
    if (p == NULL)
        return;
    scratch_free(&p->scratch);
    PyMem_Free(p->patterns);
    PyMem_Free(p->ints);
    PyMem_Free(p->contexts);
    PyMem_Free(p->sets);
    PyMem_Free(p->terms);
    PyMem_Free(p->by_phrase_first);
    PyMem_Free(p->by_phrase);
    PyMem_Free(p->cautions);
    PyMem_Free(p->member_first);
    PyMem_Free(p->members);
    PyMem_Free(p->is_concept);
    PyMem_Free(p->entity_first);
    if (p->entities != NULL)
        for (Py_ssize_t i = 0; i < p->nentity_refs; i++)
            Py_XDECREF(p->entities[i].exact);
    PyMem_Free(p->entities);
    PyMem_Free(p);
}

static void
plan_capsule_free(PyObject *capsule)
{
    plan_free(PyCapsule_GetPointer(capsule, PLAN_CAPSULE));
}

/* --- the plan ----------------------------------------------------------------------------------- */

/* An int item of a tuple, checked to lie in [lo, hi), into *out. 0, or -1 with an exception set. */
static int
int_in(PyObject *tuple, Py_ssize_t i, Py_ssize_t lo, Py_ssize_t hi, const char *what, Py_ssize_t *out)
{
    PyObject *item = PyTuple_GET_ITEM(tuple, i);
    if (!PyLong_CheckExact(item)) {
        PyErr_Format(PyExc_TypeError, "theme_plan: %s must be int", what);
        return -1;
    }
    Py_ssize_t v = PyLong_AsSsize_t(item);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "theme_plan: %s is out of range", what);
        return -1;
    }
    if (v < lo || v >= hi) {
        PyErr_Format(PyExc_ValueError, "theme_plan: %s %zd is out of range", what, v);
        return -1;
    }
    *out = v;
    return 0;
}

static int
tuple_of_tuples(PyObject *obj, const char *what)
{
    if (!PyTuple_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "theme_plan: %s must be a tuple", what);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(obj); i++)
        if (!PyTuple_Check(PyTuple_GET_ITEM(obj, i))) {
            PyErr_Format(PyExc_TypeError, "theme_plan: each of %s must be a tuple", what);
            return -1;
        }
    return 0;
}

/* Append an int to the plan's ints. */
static int
plan_int(Plan *p, Py_ssize_t *n, Py_ssize_t *cap, Py_ssize_t v)
{
    if (grow((void **)&p->ints, cap, *n, 1, sizeof(int32_t)) < 0)
        return -1;
    p->ints[(*n)++] = (int32_t)v;
    return 0;
}

/* Concepts' members (``entity_refs`` 0: (phrase, ((concept, pattern), ...)) pairs) or entity patterns
 * (1: (phrase, ((entity, pattern, exact spelling or None), ...))) filed by phrase, into dense offsets. The
 * patterns must be phrases or chains; an entity's one-phrase pattern must be the phrase it is filed under
 * (the engine takes that phrase's spans for it). */
static int
filed_pairs(Plan *p, PyObject *filed, int entity_refs)
{
    const char *what = entity_refs ? "entities" : "members";
    Py_ssize_t *first = PyMem_Calloc((size_t)p->nphrases + 1, sizeof(Py_ssize_t));
    if (first == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (entity_refs)
        p->entity_first = first;
    else
        p->member_first = first;
    Py_ssize_t total = 0, width = entity_refs ? 3 : 2;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(filed); i++) {
        PyObject *pair = PyTuple_GET_ITEM(filed, i);
        Py_ssize_t pid;
        if (PyTuple_GET_SIZE(pair) != 2 || tuple_of_tuples(PyTuple_GET_ITEM(pair, 1), what) < 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError, "theme_plan: %s holds (phrase, (...)) pairs", what);
            return -1;
        }
        if (int_in(pair, 0, 0, p->nphrases, "a filed phrase", &pid) < 0)
            return -1;
        if (first[pid + 1]) {
            PyErr_Format(PyExc_ValueError, "theme_plan: a phrase is filed twice in %s", what);
            return -1;
        }
        first[pid + 1] = PyTuple_GET_SIZE(PyTuple_GET_ITEM(pair, 1));
        total += first[pid + 1];
    }
    for (Py_ssize_t pid = 0; pid < p->nphrases; pid++)
        first[pid + 1] += first[pid];
    if (entity_refs) {
        p->entities = PyMem_Calloc((size_t)(total ? total : 1), sizeof(EntityRef));
        p->nentity_refs = total;
    }
    else
        p->members = PyMem_Calloc((size_t)(total ? total : 1), 2 * sizeof(int32_t));
    if (entity_refs ? p->entities == NULL : p->members == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(filed); i++) {
        PyObject *pair = PyTuple_GET_ITEM(filed, i), *listed = PyTuple_GET_ITEM(pair, 1);
        Py_ssize_t pid = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0)), at = first[pid];
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(listed); j++, at++) {
            PyObject *ref = PyTuple_GET_ITEM(listed, j);
            Py_ssize_t key, q;
            if (PyTuple_GET_SIZE(ref) != width) {
                PyErr_Format(PyExc_ValueError, "theme_plan: an item of %s has the wrong size", what);
                return -1;
            }
            if (int_in(ref, 0, 0, entity_refs ? p->nentities : p->nphrases, "a concept or entity", &key) < 0
                || int_in(ref, 1, 0, p->npatterns, "a filed pattern", &q) < 0)
                return -1;
            const Pattern *pat = &p->patterns[q];
            if (pat->kind > PAT_CHAIN || (entity_refs && pat->kind == PAT_PHRASE && p->ints[pat->first] != pid)) {
                PyErr_Format(PyExc_ValueError, "theme_plan: a pattern of %s must be a phrase (its own) or a chain", what);
                return -1;
            }
            if (!entity_refs) {
                p->members[2 * at] = (int32_t)key;
                p->members[2 * at + 1] = (int32_t)q;
                continue;
            }
            PyObject *exact = PyTuple_GET_ITEM(ref, 2);
            if (exact != Py_None && !PyUnicode_Check(exact)) {
                PyErr_SetString(PyExc_TypeError, "theme_plan: an entity's exact spelling must be a str or None");
                return -1;
            }
            p->entities[at].entity = (int32_t)key;
            p->entities[at].pattern = (int32_t)q;
            p->entities[at].exact = exact == Py_None ? NULL : Py_NewRef(exact);
        }
    }
    return 0;
}

PyDoc_STRVAR(theme_plan_doc,
"theme_plan(nphrases, patterns, sets, terms, by_phrase, cautions, members, concepts, nentities,\n"
"           entities) -> capsule\n\n"
"A pack's theme step flattened for ``themes`` (built by ``compile.native_theme_plan``), all ints:\n"
"``patterns``: (0, phrase) | (1, phrase, ...) a chain | (2, left, right, distance) a NEAR of two\n"
"phrase or chain patterns | (3, pattern, not, ...) an exclusion; every pattern named is an earlier one.\n"
"``sets``: context sets, each a tuple of (pattern, needed phrase, ...) in the order they are tried.\n"
"``terms``: (theme, weight: float, pattern, partner phrase or -1, set or -1, whether the pattern is\n"
"one phrase). ``by_phrase``: (phrase, (term, ...)) pairs. ``cautions``: per theme a set, or -1.\n"
"``members``: (phrase, ((concept, chain pattern), ...)), concepts' members filed by first phrase;\n"
"``concepts``: the concepts' phrase ids. ``entities``: (phrase, ((entity, pattern, exact spelling or\n"
"None), ...)), entity variants filed by first phrase, entity ids below ``nentities``.");

static PyObject *
theme_plan(PyObject *self, PyObject *args)
{
    Py_ssize_t nphrases, nentities;
    PyObject *patterns, *sets, *terms, *by_phrase, *cautions, *members, *concept_ids, *entities;
    if (!PyArg_ParseTuple(args, "nOOOOOOOnO:theme_plan", &nphrases, &patterns, &sets, &terms, &by_phrase, &cautions,
                          &members, &concept_ids, &nentities, &entities))
        return NULL;
    if (nphrases < 0 || nphrases > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "theme_plan: nphrases out of range");
        return NULL;
    }
    if (tuple_of_tuples(patterns, "patterns") < 0 || tuple_of_tuples(sets, "sets") < 0
        || tuple_of_tuples(terms, "terms") < 0 || tuple_of_tuples(by_phrase, "by_phrase") < 0
        || tuple_of_tuples(members, "members") < 0 || tuple_of_tuples(entities, "entities") < 0
        || !PyTuple_Check(cautions) || !PyTuple_Check(concept_ids)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "theme_plan: cautions and concepts must be tuples");
        return NULL;
    }
    if (nentities < 0 || nentities > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "theme_plan: nentities out of range");
        return NULL;
    }
    Plan *p = PyMem_Calloc(1, sizeof(Plan));
    if (p == NULL)
        return PyErr_NoMemory();
    Py_ssize_t nints = 0, capints = 0;
    p->nphrases = nphrases;
    p->npatterns = PyTuple_GET_SIZE(patterns);
    p->nsets = PyTuple_GET_SIZE(sets);
    p->nterms = PyTuple_GET_SIZE(terms);
    p->nthemes = PyTuple_GET_SIZE(cautions);
    if (p->npatterns > INT32_MAX || p->nsets > INT32_MAX || p->nterms > INT32_MAX || p->nthemes > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "theme_plan: too many items");
        goto fail;
    }
    p->patterns = PyMem_Calloc((size_t)(p->npatterns ? p->npatterns : 1), sizeof(Pattern));
    p->sets = PyMem_Calloc((size_t)(p->nsets ? p->nsets : 1), sizeof(ContextSet));
    p->terms = PyMem_Calloc((size_t)(p->nterms ? p->nterms : 1), sizeof(Term));
    p->cautions = PyMem_Calloc((size_t)(p->nthemes ? p->nthemes : 1), sizeof(int32_t));
    p->by_phrase_first = PyMem_Calloc((size_t)nphrases + 1, sizeof(Py_ssize_t));
    if (!p->patterns || !p->sets || !p->terms || !p->cautions || !p->by_phrase_first) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t q = 0; q < p->npatterns; q++) {
        PyObject *spec = PyTuple_GET_ITEM(patterns, q);
        Py_ssize_t n = PyTuple_GET_SIZE(spec);
        Py_ssize_t kind;
        if (n == 0) {
            PyErr_SetString(PyExc_ValueError, "theme_plan: an empty pattern");
            goto fail;
        }
        if (int_in(spec, 0, 0, 4, "a pattern's kind", &kind) < 0)
            goto fail;
        int sizes_ok = (kind == PAT_PHRASE && n == 2) || (kind == PAT_CHAIN && n >= 3) || (kind == PAT_NEAR && n == 4)
                       || (kind == PAT_EXCLUSION && n >= 2);
        if (!sizes_ok) {
            PyErr_Format(PyExc_ValueError, "theme_plan: pattern %zd has the wrong size for its kind", q);
            goto fail;
        }
        p->patterns[q].kind = (int)kind;
        p->patterns[q].first = nints;
        p->patterns[q].count = n - 1;
        for (Py_ssize_t i = 1; i < n; i++) {
            Py_ssize_t v;
            int bad;
            if (kind == PAT_PHRASE || kind == PAT_CHAIN)
                bad = int_in(spec, i, 0, nphrases, "a phrase", &v);
            else if (kind == PAT_NEAR && i == 3)
                bad = int_in(spec, i, 0, INT32_MAX, "a distance", &v);
            else {
                bad = int_in(spec, i, 0, q, "a pattern's operand (an earlier pattern)", &v);
                /* A NEAR's sides are phrases or chains: they are matched as spans, not as matches. */
                if (!bad && kind == PAT_NEAR && p->patterns[v].kind > PAT_CHAIN) {
                    PyErr_SetString(PyExc_ValueError, "theme_plan: a NEAR's sides must be phrases or chains");
                    goto fail;
                }
                /* An exclusion's pattern and NOTs are never exclusions themselves (compile makes none), which
                 * bounds matches_of's recursion at two levels. */
                if (!bad && kind == PAT_EXCLUSION && p->patterns[v].kind == PAT_EXCLUSION) {
                    PyErr_SetString(PyExc_ValueError, "theme_plan: an exclusion's operands cannot be exclusions");
                    goto fail;
                }
            }
            if (bad || plan_int(p, &nints, &capints, v) < 0)
                goto fail;
        }
    }
    Py_ssize_t ncontexts = 0;
    for (Py_ssize_t k = 0; k < p->nsets; k++) {
        PyObject *set = PyTuple_GET_ITEM(sets, k);
        if (tuple_of_tuples(set, "a set's contexts") < 0)
            goto fail;
        ncontexts += PyTuple_GET_SIZE(set);
    }
    p->contexts = PyMem_Calloc((size_t)(ncontexts ? ncontexts : 1), sizeof(Context));
    if (p->contexts == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    Py_ssize_t c = 0;
    for (Py_ssize_t k = 0; k < p->nsets; k++) {
        PyObject *set = PyTuple_GET_ITEM(sets, k);
        p->sets[k].first = c;
        p->sets[k].count = PyTuple_GET_SIZE(set);
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(set); j++, c++) {
            PyObject *spec = PyTuple_GET_ITEM(set, j);
            if (PyTuple_GET_SIZE(spec) < 2) {
                PyErr_SetString(PyExc_ValueError, "theme_plan: a context is (pattern, needed phrase, ...)");
                goto fail;
            }
            Py_ssize_t q;
            if (int_in(spec, 0, 0, p->npatterns, "a context's pattern", &q) < 0)
                goto fail;
            p->contexts[c].pattern = (int32_t)q;
            p->contexts[c].first = nints;
            p->contexts[c].count = PyTuple_GET_SIZE(spec) - 1;
            for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(spec); i++) {
                Py_ssize_t v;
                if (int_in(spec, i, 0, nphrases, "a needed phrase", &v) < 0 || plan_int(p, &nints, &capints, v) < 0)
                    goto fail;
            }
        }
    }
    for (Py_ssize_t t = 0; t < p->nterms; t++) {
        PyObject *spec = PyTuple_GET_ITEM(terms, t);
        if (PyTuple_GET_SIZE(spec) != 6 || !PyFloat_CheckExact(PyTuple_GET_ITEM(spec, 1))) {
            PyErr_SetString(PyExc_ValueError, "theme_plan: a term is (theme, weight: float, pattern, partner, set, phrase)");
            goto fail;
        }
        Term *term = &p->terms[t];
        Py_ssize_t theme, pattern, partner, set, phrase;
        if (int_in(spec, 0, 0, p->nthemes, "a term's theme", &theme) < 0
            || int_in(spec, 2, 0, p->npatterns, "a term's pattern", &pattern) < 0
            || int_in(spec, 3, -1, nphrases, "a term's partner", &partner) < 0
            || int_in(spec, 4, -1, p->nsets, "a term's set", &set) < 0
            || int_in(spec, 5, 0, 2, "a term's phrase flag", &phrase) < 0)
            goto fail;
        term->theme = (int32_t)theme;
        term->pattern = (int32_t)pattern;
        term->partner = (int32_t)partner;
        term->contexts = (int32_t)set;
        term->phrase = (int)phrase;
        term->weight = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(spec, 1));
        if (phrase && p->patterns[pattern].kind != PAT_PHRASE) {
            PyErr_SetString(PyExc_ValueError, "theme_plan: a phrase term's pattern must be a phrase");
            goto fail;
        }
    }
    /* by_phrase: count, then fill, keeping each phrase's terms in the order given. */
    Py_ssize_t nby = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(by_phrase); i++) {
        PyObject *pair = PyTuple_GET_ITEM(by_phrase, i);
        if (PyTuple_GET_SIZE(pair) != 2 || !PyTuple_Check(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_ValueError, "theme_plan: by_phrase holds (phrase, (term, ...)) pairs");
            goto fail;
        }
        Py_ssize_t pid;
        if (int_in(pair, 0, 0, nphrases, "a by_phrase phrase", &pid) < 0)
            goto fail;
        if (p->by_phrase_first[pid + 1]) {
            PyErr_SetString(PyExc_ValueError, "theme_plan: a phrase is listed twice in by_phrase");
            goto fail;
        }
        p->by_phrase_first[pid + 1] = PyTuple_GET_SIZE(PyTuple_GET_ITEM(pair, 1));
        nby += PyTuple_GET_SIZE(PyTuple_GET_ITEM(pair, 1));
    }
    for (Py_ssize_t pid = 0; pid < nphrases; pid++)
        p->by_phrase_first[pid + 1] += p->by_phrase_first[pid];
    p->by_phrase = PyMem_Calloc((size_t)(nby ? nby : 1), sizeof(int32_t));
    if (p->by_phrase == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(by_phrase); i++) {
        PyObject *pair = PyTuple_GET_ITEM(by_phrase, i), *listed = PyTuple_GET_ITEM(pair, 1);
        Py_ssize_t pid = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0)), at = p->by_phrase_first[pid];
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(listed); j++) {
            Py_ssize_t t;
            if (int_in(listed, j, 0, p->nterms, "a by_phrase term", &t) < 0)
                goto fail;
            p->by_phrase[at + j] = (int32_t)t;
        }
    }
    for (Py_ssize_t t = 0; t < p->nthemes; t++) {
        Py_ssize_t set;
        if (int_in(cautions, t, -1, p->nsets, "a theme's caution set", &set) < 0)
            goto fail;
        p->cautions[t] = (int32_t)set;
    }
    p->nentities = nentities;
    if (filed_pairs(p, members, 0) < 0 || filed_pairs(p, entities, 1) < 0)
        goto fail;
    p->is_concept = PyMem_Calloc((size_t)(nphrases ? nphrases : 1), 1);
    if (p->is_concept == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(concept_ids); i++) {
        Py_ssize_t pid;
        if (int_in(concept_ids, i, 0, nphrases, "a concept phrase", &pid) < 0)
            goto fail;
        p->is_concept[pid] = 1;
    }
    /* A member that is itself a concept would read a concept's spans while they are being extended. */
    for (Py_ssize_t i = 0; i < p->member_first[nphrases]; i++) {
        const Pattern *member = &p->patterns[p->members[2 * i + 1]];
        for (Py_ssize_t k = 0; k < member->count; k++)
            if (p->is_concept[p->ints[member->first + k]]) {
                PyErr_SetString(PyExc_ValueError, "theme_plan: a concept's member names a concept");
                goto fail;
            }
    }
    if (scratch_init(&p->scratch, p) < 0)
        goto fail;
    PyObject *capsule = PyCapsule_New(p, PLAN_CAPSULE, plan_capsule_free);
    if (capsule == NULL)
        goto fail;
    return capsule;
fail:
    plan_free(p);
    return NULL;
}

/* --- a document ---------------------------------------------------------------------------------- */

typedef struct {
    const Plan *p;
    Scratch *s;
    PyObject *text;
    /* The ``NormalizedText``'s offset map (borrowed), for case-sensitive entity variants. */
    PyObject *original, *breaks, *shifts, *starts, *ends;
} Doc;

static inline int
is_hit(const Doc *d, Py_ssize_t pid)
{
    return d->s->hit_gen[pid] == d->s->gen;
}

/* The index of the word at normalised position ``pos`` (the spaces before it), as ``Analysis.word_index``. */
static int
word_at(Doc *d, int32_t pos, Py_ssize_t *out)
{
    Scratch *s = d->s;
    Py_ssize_t n = PyUnicode_GET_LENGTH(d->text);
    if (!s->words_ready) {
        if (grow((void **)&s->words, &s->capwords, 0, n + 1, sizeof(int32_t)) < 0)
            return -1;
        int kind = PyUnicode_KIND(d->text);
        const void *data = PyUnicode_DATA(d->text);
        int32_t spaces = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            s->words[i] = spaces;
            spaces += PyUnicode_READ(kind, data, i) == ' ';
        }
        s->words[n] = spaces;
        s->words_ready = 1;
    }
    /* ``text.count(" ", 0, pos)`` clamps pos to the text. */
    *out = s->words[pos < 0 ? 0 : (pos > n ? n : pos)];
    return 0;
}

/* The spans of a phrase or chain pattern: (first, count) in the scratch's spans. A chain's pieces each
 * start on the word after the last (one space apart): where a next piece has several spans starting
 * there, the last one listed counts, as in the engine's dict. */
static int
chain(Doc *d, int32_t q, Py_ssize_t *first, Py_ssize_t *count)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    const Pattern *pat = &p->patterns[q];
    const int32_t *pids = p->ints + pat->first;
    *first = *count = 0;
    if (!is_hit(d, pids[0]))
        return 0;
    Py_ssize_t cf = s->hit_first[pids[0]], cc = s->hit_count[pids[0]];
    for (Py_ssize_t k = 1; k < pat->count && cc; k++) {
        int32_t pid = pids[k];
        if (!is_hit(d, pid)) {
            cc = 0;
            break;
        }
        if (grow((void **)&s->spans, &s->capspans, s->nspans, cc, sizeof(Span)) < 0)
            return -1;
        Py_ssize_t nf = s->nspans, hf = s->hit_first[pid], hc = s->hit_count[pid];
        for (Py_ssize_t i = 0; i < cc; i++) {
            int32_t start = s->spans[cf + i].s, want = s->spans[cf + i].e + 1;
            for (Py_ssize_t j = hc - 1; j >= 0; j--)
                if (s->spans[hf + j].s == want) {
                    s->spans[s->nspans++] = (Span){start, s->spans[hf + j].e, NULL};
                    break;
                }
        }
        cf = nf;
        cc = s->nspans - nf;
    }
    *first = cf;
    *count = cc;
    return 0;
}

static inline void
extent(const Scratch *s, Match m, int32_t *lo, int32_t *hi)
{
    const Span *a = &s->spans[m.a];
    if (m.b < 0) {
        *lo = a->s;
        *hi = a->e;
        return;
    }
    const Span *b = &s->spans[m.b];
    *lo = a->s < b->s ? a->s : b->s;
    *hi = a->e > b->e ? a->e : b->e;
}

/* Whether a match's extent overlaps one of ``count`` extents from ``first`` in the scratch's ext. */
static int
meets_any(const Scratch *s, Match m, Py_ssize_t first, Py_ssize_t count)
{
    int32_t lo, hi;
    extent(s, m, &lo, &hi);
    for (Py_ssize_t i = first; i < first + count; i++)
        if (s->ext[2 * i] < hi && lo < s->ext[2 * i + 1])
            return 1;
    return 0;
}

static int
push_match(Scratch *s, int32_t a, int32_t b)
{
    if (grow((void **)&s->matches, &s->capmatches, s->nmatches, 1, sizeof(Match)) < 0)
        return -1;
    s->matches[s->nmatches++] = (Match){a, b};
    return 0;
}

static int
push_extent(Scratch *s, Match m)
{
    if (grow((void **)&s->ext, &s->capext, 2 * s->next, 2, sizeof(int32_t)) < 0)
        return -1;
    /* capext counts int32s: two per extent. */
    extent(s, m, &s->ext[2 * s->next], &s->ext[2 * s->next + 1]);
    s->next++;
    return 0;
}

/* The matches of pattern ``q`` (``CompiledRules._spans``), worked out once per document. */
static int
matches_of(Doc *d, int32_t q, Py_ssize_t *first, Py_ssize_t *count)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    if (s->memo_gen[q] == s->gen) {
        *first = s->memo_first[q];
        *count = s->memo_count[q];
        return 0;
    }
    const Pattern *pat = &p->patterns[q];
    const int32_t *args = p->ints + pat->first;
    Py_ssize_t f, c, mf;
    if (pat->kind == PAT_PHRASE || pat->kind == PAT_CHAIN) {
        if (chain(d, q, &f, &c) < 0)
            return -1;
        mf = s->nmatches;
        for (Py_ssize_t i = 0; i < c; i++)
            if (push_match(s, (int32_t)(f + i), -1) < 0)
                return -1;
    }
    else if (pat->kind == PAT_NEAR) {
        Py_ssize_t lf, lc, rf, rc;
        int32_t distance = args[2];
        if (chain(d, args[1], &rf, &rc) < 0)
            return -1;
        lc = 0;
        if (rc && chain(d, args[0], &lf, &lc) < 0)
            return -1;
        mf = s->nmatches;
        for (Py_ssize_t i = 0; i < lc; i++)
            for (Py_ssize_t j = 0; j < rc; j++) {
                Span ls = s->spans[lf + i], rs = s->spans[rf + j];
                Py_ssize_t x, y;
                if (ls.e <= rs.s) {
                    if (word_at(d, rs.s, &x) < 0 || word_at(d, ls.e - 1, &y) < 0)
                        return -1;
                }
                else if (rs.e <= ls.s) {
                    if (word_at(d, ls.s, &x) < 0 || word_at(d, rs.e - 1, &y) < 0)
                        return -1;
                }
                else
                    continue;
                if (x - y - 1 <= distance && push_match(s, (int32_t)(lf + i), (int32_t)(rf + j)) < 0)
                    return -1;
            }
    }
    else { /* an exclusion: the pattern's matches that meet none of its NOT contexts' */
        Py_ssize_t spared = s->next;
        for (Py_ssize_t k = 1; k < pat->count; k++) {
            if (matches_of(d, args[k], &f, &c) < 0)
                return -1;
            for (Py_ssize_t i = 0; i < c; i++)
                if (push_extent(s, s->matches[f + i]) < 0)
                    return -1;
        }
        if (matches_of(d, args[0], &f, &c) < 0)
            return -1;
        mf = s->nmatches;
        for (Py_ssize_t i = 0; i < c; i++) {
            Match m = s->matches[f + i];
            if (!meets_any(s, m, spared, s->next - spared) && push_match(s, m.a, m.b) < 0)
                return -1;
        }
        s->next = spared; /* the NOTs' extents were only for this */
    }
    s->memo_gen[q] = s->gen;
    *first = s->memo_first[q] = mf;
    *count = s->memo_count[q] = s->nmatches - mf;
    return 0;
}

static inline int
possible(const Doc *d, const Context *c)
{
    const int32_t *needed = d->p->ints + c->first;
    for (Py_ssize_t i = 0; i < c->count; i++)
        if (!is_hit(d, needed[i]))
            return 0;
    return 1;
}

/* The extents of every match of every context of set ``k`` this document can match, once per document. */
static int
set_extents(Doc *d, int32_t k, Py_ssize_t *first, Py_ssize_t *count)
{
    Scratch *s = d->s;
    if (s->ext_gen[k] != s->gen) {
        const ContextSet *set = &d->p->sets[k];
        /* Matches first (an exclusion uses the extents' arena as scratch), then their extents together. */
        for (Py_ssize_t c = set->first; c < set->first + set->count; c++) {
            Py_ssize_t f, n;
            if (possible(d, &d->p->contexts[c]) && matches_of(d, d->p->contexts[c].pattern, &f, &n) < 0)
                return -1;
        }
        Py_ssize_t ef = s->next;
        for (Py_ssize_t c = set->first; c < set->first + set->count; c++) {
            Py_ssize_t f, n;
            if (!possible(d, &d->p->contexts[c]))
                continue;
            if (matches_of(d, d->p->contexts[c].pattern, &f, &n) < 0)
                return -1;
            for (Py_ssize_t i = 0; i < n; i++)
                if (push_extent(s, s->matches[f + i]) < 0)
                    return -1;
        }
        s->ext_gen[k] = s->gen;
        s->ext_first[k] = ef;
        s->ext_count[k] = s->next - ef;
    }
    *first = s->ext_first[k];
    *count = s->ext_count[k];
    return 0;
}

/* A span's tuple (a new reference), made on first use. */
static PyObject *
span_obj(Scratch *s, int32_t i)
{
    Span *span = &s->spans[i];
    if (span->obj == NULL && (span->obj = Py_BuildValue("(ii)", span->s, span->e)) == NULL)
        return NULL;
    Py_INCREF(span->obj);
    return span->obj;
}

/* A match as the engine lists it: [span] or [left, right]. */
static PyObject *
match_list(Scratch *s, Match m)
{
    PyObject *list = PyList_New(m.b < 0 ? 1 : 2);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *obj = span_obj(s, i ? m.b : m.a);
        if (obj == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, obj);
    }
    return list;
}

static PyObject *
match_lists(Scratch *s, const int32_t *indexes, Py_ssize_t count)
{
    PyObject *list = PyList_New(count);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = match_list(s, s->matches[indexes[i]]);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static int
set_item_int(PyObject *dict, Py_ssize_t key, PyObject *value)
{
    PyObject *k = PyLong_FromSsize_t(key);
    if (k == NULL || value == NULL) {
        Py_XDECREF(k);
        Py_XDECREF(value);
        return -1;
    }
    int bad = PyDict_SetItem(dict, k, value);
    Py_DECREF(k);
    Py_DECREF(value);
    return bad;
}

/* Read the hits into the scratch: per phrase its spans, each holding a reference to its tuple. */
static int
read_hits(Doc *d, PyObject *hits)
{
    Scratch *s = d->s;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(hits, &pos, &key, &value)) {
        if (!PyLong_CheckExact(key) || !PyList_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "analyse: hits must map int phrase ids to lists of spans");
            return -1;
        }
        Py_ssize_t pid = PyLong_AsSsize_t(key);
        if (pid == -1 && PyErr_Occurred())
            return -1;
        if (pid < 0 || pid >= d->p->nphrases) {
            PyErr_Format(PyExc_ValueError, "analyse: phrase id %zd is not the plan's", pid);
            return -1;
        }
        if (s->hit_gen[pid] == s->gen) {
            PyErr_SetString(PyExc_ValueError, "analyse: a phrase id is in the hits twice");
            return -1;
        }
        if (GROW(s, hit_order, nhit_order, caphit_order, 1) < 0)
            return -1;
        s->hit_order[s->nhit_order++] = (int32_t)pid;
        Py_ssize_t n = PyList_GET_SIZE(value);
        if (grow((void **)&s->spans, &s->capspans, s->nspans, n, sizeof(Span)) < 0)
            return -1;
        s->hit_gen[pid] = s->gen;
        s->hit_first[pid] = s->nspans;
        s->hit_count[pid] = n;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *span = PyList_GET_ITEM(value, i);
            Py_ssize_t a, b;
            if (!PyTuple_CheckExact(span) || PyTuple_GET_SIZE(span) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(span, 0))
                || !PyLong_CheckExact(PyTuple_GET_ITEM(span, 1))) {
                PyErr_SetString(PyExc_TypeError, "analyse: a span must be a tuple of two ints");
                return -1;
            }
            a = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
            b = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
            if ((a == -1 || b == -1) && PyErr_Occurred())
                PyErr_Clear(); /* beyond Py_ssize_t: out of range below */
            /* A word's span: non-empty and inside the normalised text (which is below INT32_MAX long). */
            if (a < 0 || b <= a || b > PyUnicode_GET_LENGTH(d->text)) {
                PyErr_SetString(PyExc_ValueError, "analyse: a span is empty or outside the normalised text");
                return -1;
            }
            Py_INCREF(span);
            s->spans[s->nspans++] = (Span){(int32_t)a, (int32_t)b, span};
        }
    }
    return 0;
}

/* The term loop of ``CompiledRules._themes``: every term of a phrase hit, in the hits' order. */
static int
match_terms(Doc *d, PyObject *term_matches, PyObject *term_vetoed)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    for (Py_ssize_t h = 0; h < s->nhit_order; h++) {
        int32_t pid = s->hit_order[h];
        for (Py_ssize_t at = p->by_phrase_first[pid]; at < p->by_phrase_first[pid + 1]; at++) {
            int32_t ti = p->by_phrase[at];
            const Term *term = &p->terms[ti];
            Py_ssize_t f, c;
            int phrase_matches = term->phrase;
            if (phrase_matches) { /* one match per span of the phrase */
                f = s->hit_first[pid];
                c = s->hit_count[pid];
            }
            else {
                if (term->partner >= 0 && !is_hit(d, term->partner))
                    continue;
                if (matches_of(d, term->pattern, &f, &c) < 0)
                    return -1;
                if (c == 0)
                    continue;
            }
            Py_ssize_t ef = 0, ec = 0;
            if (term->contexts >= 0 && set_extents(d, term->contexts, &ef, &ec) < 0)
                return -1;
            /* Kept matches go to ``kept``; vetoed ones straight into a list. */
            if (grow((void **)&s->kept, &s->capkept, s->nkept, c, sizeof(int32_t)) < 0)
                return -1;
            Py_ssize_t kf = s->nkept;
            PyObject *vetoed = NULL;
            for (Py_ssize_t i = 0; i < c; i++) {
                int32_t mi;
                if (phrase_matches) {
                    if (push_match(s, (int32_t)(f + i), -1) < 0)
                        goto fail_vetoed;
                    mi = (int32_t)(s->nmatches - 1);
                }
                else
                    mi = (int32_t)(f + i);
                if (term->contexts >= 0 && ec && meets_any(s, s->matches[mi], ef, ec)) {
                    if (vetoed == NULL && (vetoed = PyList_New(0)) == NULL)
                        return -1;
                    PyObject *item = match_list(s, s->matches[mi]);
                    if (item == NULL || PyList_Append(vetoed, item) < 0) {
                        Py_XDECREF(item);
                        goto fail_vetoed;
                    }
                    Py_DECREF(item);
                }
                else
                    s->kept[s->nkept++] = mi;
            }
            if (vetoed != NULL && set_item_int(term_vetoed, ti, vetoed) < 0)
                return -1;
            Py_ssize_t kc = s->nkept - kf;
            if (term->contexts >= 0 && kc == 0)
                continue;
            if (set_item_int(term_matches, ti, match_lists(s, s->kept + kf, kc)) < 0)
                return -1;
            if (grow((void **)&s->found, &s->capfound, s->nfound, 1, sizeof(Found)) < 0)
                return -1;
            s->found[s->nfound++] = (Found){ti, kf, kc};
            continue;
        fail_vetoed:
            Py_XDECREF(vetoed);
            return -1;
        }
    }
    return 0;
}

/* Defined with the concepts' and entities' steps below, which share them. */
static void sort_group(Scratch *s, int outer, int dedupe);
static int push_group(Scratch *s, int32_t span);

/* ``CompiledRules._score``: each matched term adds its weight once, in the order (-weight, term); a term
 * of positive weight whose set of spans another term of its theme already counted is redundant. */
static int
score(Doc *d, PyObject *term_redundant, PyObject *scores)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    Py_ssize_t n = s->nfound;
    if (n == 0)
        return 0;
    int result = -1;
    /* Per found term its sorted distinct spans, as (start, end) pairs in one array. */
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        for (Py_ssize_t k = 0; k < s->found[i].count; k++)
            total += s->matches[s->kept[s->found[i].first + k]].b < 0 ? 1 : 2;
    int32_t *pairs = PyMem_Malloc((size_t)(total ? total : 1) * 2 * sizeof(int32_t));
    Py_ssize_t *pf = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t)), *pc = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    Py_ssize_t *order = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t)), *counted = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    double *sums = PyMem_Calloc((size_t)(p->nthemes ? p->nthemes : 1), sizeof(double));
    int32_t *theme_order = PyMem_Malloc((size_t)(p->nthemes ? p->nthemes : 1) * sizeof(int32_t));
    char *scored = PyMem_Calloc((size_t)(p->nthemes ? p->nthemes : 1), 1);
    if (!pairs || !pf || !pc || !order || !counted || !sums || !theme_order || !scored) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        /* The term's spans, sorted and distinct by value (``sort_group``), copied out as pairs. */
        s->ngroup = 0;
        for (Py_ssize_t k = 0; k < s->found[i].count; k++) {
            Match m = s->matches[s->kept[s->found[i].first + k]];
            if (push_group(s, m.a) < 0 || (m.b >= 0 && push_group(s, m.b) < 0))
                goto done;
        }
        sort_group(s, 0, 1);
        pf[i] = at;
        for (Py_ssize_t k = 0; k < s->ngroup; k++, at++) {
            pairs[2 * at] = s->spans[s->group[k]].s;
            pairs[2 * at + 1] = s->spans[s->group[k]].e;
        }
        pc[i] = s->ngroup;
        order[i] = i;
    }
    /* Insertion sort by (-weight, term): a handful of terms. */
    for (Py_ssize_t i = 1; i < n; i++) {
        Py_ssize_t v = order[i], j = i;
        const Term *tv = &p->terms[s->found[v].term];
        while (j > 0) {
            const Term *tu = &p->terms[s->found[order[j - 1]].term];
            if (tu->weight > tv->weight || (tu->weight == tv->weight && s->found[order[j - 1]].term < s->found[v].term))
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    Py_ssize_t ncounted = 0, nthemes_scored = 0;
    for (Py_ssize_t o = 0; o < n; o++) {
        Py_ssize_t i = order[o];
        const Term *term = &p->terms[s->found[i].term];
        int seen = 0;
        for (Py_ssize_t u = 0; u < ncounted && !seen; u++) {
            Py_ssize_t j = counted[u];
            seen = p->terms[s->found[j].term].theme == term->theme && pc[j] == pc[i]
                   && memcmp(pairs + 2 * pf[j], pairs + 2 * pf[i], (size_t)pc[i] * 2 * sizeof(int32_t)) == 0;
        }
        if (term->weight > 0 && seen) {
            PyObject *ti = PyLong_FromLong(s->found[i].term);
            int bad = ti == NULL || PySet_Add(term_redundant, ti) < 0;
            Py_XDECREF(ti);
            if (bad)
                goto done;
            continue;
        }
        if (!seen)
            counted[ncounted++] = i;
        if (!scored[term->theme]) {
            scored[term->theme] = 1;
            theme_order[nthemes_scored++] = term->theme;
        }
        sums[term->theme] = sums[term->theme] + term->weight;
    }
    for (Py_ssize_t k = 0; k < nthemes_scored; k++)
        if (set_item_int(scores, theme_order[k], PyFloat_FromDouble(sums[theme_order[k]])) < 0)
            goto done;
    result = 0;
done:
    PyMem_Free(pairs);
    PyMem_Free(pf);
    PyMem_Free(pc);
    PyMem_Free(order);
    PyMem_Free(counted);
    PyMem_Free(sums);
    PyMem_Free(theme_order);
    PyMem_Free(scored);
    return result;
}

static int
push_pair(Scratch *s, int32_t key, int32_t span)
{
    if (GROW(s, pairs, npairs, cappairs, 1) < 0)
        return -1;
    s->pairs[s->npairs++] = (Pair){key, span};
    return 0;
}

/* Record ``key`` among the keys in order of their first pair, unless it is there already (a handful). */
static int
note_key(Scratch *s, int32_t key)
{
    for (Py_ssize_t i = 0; i < s->nkeys; i++)
        if (s->keys[i] == key)
            return 0;
    if (GROW(s, keys, nkeys, capkeys, 1) < 0)
        return -1;
    s->keys[s->nkeys++] = key;
    return 0;
}

/* ``sort_group``'s comparison: the spans it sorts (set for the call; no Python code runs inside qsort). */
static const Span *sort_spans;
static int sort_outer;

static int
compare_group(const void *x, const void *y)
{
    int32_t i = *(const int32_t *)x, j = *(const int32_t *)y;
    const Span *a = &sort_spans[i], *b = &sort_spans[j];
    if (a->s != b->s)
        return a->s < b->s ? -1 : 1;
    if (a->e != b->e)
        return (a->e < b->e) == !sort_outer ? -1 : 1;
    return (i > j) - (i < j); /* equal spans: by index, so the order is the same on every run */
}

/* Sort ``group`` (span indexes) by (start, end), or with ``outer`` by (start, -end); drop repeated values. */
static void
sort_group(Scratch *s, int outer, int dedupe)
{
    int32_t *g = s->group;
    if (s->ngroup > 1) {
        sort_spans = s->spans;
        sort_outer = outer;
        qsort(g, (size_t)s->ngroup, sizeof(int32_t), compare_group);
    }
    if (!dedupe)
        return;
    Py_ssize_t w = 0;
    for (Py_ssize_t i = 0; i < s->ngroup; i++)
        if (!w || s->spans[g[i]].s != s->spans[g[w - 1]].s || s->spans[g[i]].e != s->spans[g[w - 1]].e)
            g[w++] = g[i];
    s->ngroup = w;
}

static int
push_group(Scratch *s, int32_t span)
{
    if (GROW(s, group, ngroup, capgroup, 1) < 0)
        return -1;
    s->group[s->ngroup++] = span;
    return 0;
}

/* The spans of ``group`` as a new list of tuples. */
static PyObject *
group_list(Scratch *s)
{
    PyObject *list = PyList_New(s->ngroup);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < s->ngroup; i++) {
        PyObject *obj = span_obj(s, s->group[i]);
        if (obj == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, obj);
    }
    return list;
}

/* ``CompiledRules._concepts``: each concept hit by a member of several pieces gets that member's spans;
 * every concept's spans are then sorted (and made distinct where a member added some). The hits dict is
 * updated as the engine's step leaves it (a new concept at its end), and so are the scratch's tables. */
static int
concepts(Doc *d, PyObject *hits)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    s->npairs = s->nkeys = 0;
    Py_ssize_t nhit = s->nhit_order;
    for (Py_ssize_t h = 0; h < nhit; h++) {
        int32_t pid = s->hit_order[h];
        for (Py_ssize_t at = p->member_first[pid]; at < p->member_first[pid + 1]; at++) {
            Py_ssize_t f, c;
            if (chain(d, p->members[2 * at + 1], &f, &c) < 0)
                return -1;
            for (Py_ssize_t i = 0; i < c; i++)
                if (push_pair(s, p->members[2 * at], (int32_t)(f + i)) < 0 || note_key(s, p->members[2 * at]) < 0)
                    return -1;
        }
    }
    for (Py_ssize_t k = 0; k < s->nkeys; k++) { /* a concept first hit by a member of several pieces */
        int32_t concept = s->keys[k];
        if (!is_hit(d, concept)) {
            if (GROW(s, hit_order, nhit_order, caphit_order, 1) < 0)
                return -1;
            s->hit_order[s->nhit_order++] = concept;
            s->hit_gen[concept] = s->gen;
            s->hit_count[concept] = 0;
        }
    }
    for (Py_ssize_t h = 0; h < s->nhit_order; h++) {
        int32_t pid = s->hit_order[h];
        if (!p->is_concept[pid])
            continue;
        int extended = 0;
        for (Py_ssize_t k = 0; k < s->nkeys && !extended; k++)
            extended = s->keys[k] == pid;
        s->ngroup = 0;
        for (Py_ssize_t i = 0; i < s->hit_count[pid]; i++)
            if (push_group(s, (int32_t)(s->hit_first[pid] + i)) < 0)
                return -1;
        for (Py_ssize_t i = 0; i < s->npairs && extended; i++)
            if (s->pairs[i].key == pid && push_group(s, s->pairs[i].span) < 0)
                return -1;
        Py_ssize_t n = s->ngroup;
        sort_group(s, 0, extended);
        int moved = extended;
        for (Py_ssize_t i = 0; i < n && !moved; i++)
            moved = s->group[i] != s->hit_first[pid] + i;
        if (!moved) /* sorted already, nothing added: the list stays as it is */
            continue;
        /* The concept's spans as one new block of the arena, each holding its own reference. */
        if (GROW(s, spans, nspans, capspans, s->ngroup) < 0)
            return -1;
        Py_ssize_t first = s->nspans;
        for (Py_ssize_t i = 0; i < s->ngroup; i++) {
            Span span = s->spans[s->group[i]];
            Py_XINCREF(span.obj);
            s->spans[s->nspans++] = span;
        }
        s->hit_first[pid] = first;
        s->hit_count[pid] = s->ngroup;
        for (Py_ssize_t i = 0; i < s->ngroup; i++)
            s->group[i] = (int32_t)(first + i);
        if (set_item_int(hits, pid, group_list(s)) < 0)
            return -1;
    }
    return 0;
}

/* Item ``i`` of ``list`` (an offset map list), an int. */
static int
list_int(PyObject *list, Py_ssize_t i, Py_ssize_t *out, const char *caller)
{
    if (!PyList_Check(list) || i < 0 || i >= PyList_GET_SIZE(list) || !PyLong_Check(PyList_GET_ITEM(list, i))
        || ((*out = PyLong_AsSsize_t(PyList_GET_ITEM(list, i))) == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s: the normalised text's offset map is malformed", caller);
        return -1;
    }
    return 0;
}

/* The position in ``breaks`` (a list of ints, ascending) after every item <= ``x``, from ``lo`` on. */
static int
bisect_right(PyObject *breaks, Py_ssize_t x, Py_ssize_t lo, Py_ssize_t *out, const char *caller)
{
    Py_ssize_t hi = PyList_GET_SIZE(breaks);
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2, v;
        if (list_int(breaks, mid, &v, caller) < 0)
            return -1;
        if (x < v)
            hi = mid;
        else
            lo = mid + 1;
    }
    *out = lo;
    return 0;
}

/* The original offsets of the normalised span [s, e) (``NormalizedText.span``), checked to lie in the
 * original text. ``fields``: the NormalizedText's text, original, breaks, shifts, starts, ends. */
static int
map_span(PyObject *const *fields, Py_ssize_t s, Py_ssize_t e, Py_ssize_t *start_out, Py_ssize_t *end_out,
         const char *caller)
{
    PyObject *breaks = fields[2], *shifts = fields[3];
    Py_ssize_t start = s, last = e - 1, k, shift;
    if (PyList_GET_SIZE(breaks)) {
        if (bisect_right(breaks, start, 0, &k, caller) < 0)
            return -1;
        if (k) {
            if (list_int(shifts, k - 1, &shift, caller) < 0)
                return -1;
            start += shift;
        }
        if (bisect_right(breaks, last, k, &k, caller) < 0)
            return -1;
        if (k) {
            if (list_int(shifts, k - 1, &shift, caller) < 0)
                return -1;
            last += shift;
        }
    }
    Py_ssize_t end = last + 1;
    if (fields[4] != Py_None) {
        if (list_int(fields[4], start, &start, caller) < 0 || list_int(fields[5], last, &end, caller) < 0)
            return -1;
    }
    if (start < 0 || end > PyUnicode_GET_LENGTH(fields[1]) || start > end) {
        PyErr_Format(PyExc_ValueError, "%s: a span maps outside the original text", caller);
        return -1;
    }
    *start_out = start;
    *end_out = end;
    return 0;
}

/* Whether the original text of a span is exactly ``exact``. */
static int
spelled(Doc *d, Span span, PyObject *exact, int *out)
{
    PyObject *fields[6] = {d->text, d->original, d->breaks, d->shifts, d->starts, d->ends};
    Py_ssize_t start, end;
    if (map_span(fields, span.s, span.e, &start, &end, "analyse") < 0)
        return -1;
    *out = end - start == PyUnicode_GET_LENGTH(exact) && PyUnicode_Tailmatch(d->original, exact, start, end, -1) == 1;
    return 0;
}

/* ``CompiledRules._entities``: every entity variant filed under a phrase hit, in the hits' order; a
 * case-sensitive variant only where the original spells it so; each entity's spans then reduced to the
 * outermost (``_outermost``) when it has several. */
static int
entities(Doc *d, PyObject *mentions)
{
    const Plan *p = d->p;
    Scratch *s = d->s;
    s->npairs = s->nkeys = 0;
    for (Py_ssize_t h = 0; h < s->nhit_order; h++) {
        int32_t pid = s->hit_order[h];
        for (Py_ssize_t at = p->entity_first[pid]; at < p->entity_first[pid + 1]; at++) {
            const EntityRef *ref = &p->entities[at];
            Py_ssize_t f, c;
            if (p->patterns[ref->pattern].kind == PAT_PHRASE) {
                f = s->hit_first[pid];
                c = s->hit_count[pid];
            }
            else if (chain(d, ref->pattern, &f, &c) < 0)
                return -1;
            for (Py_ssize_t i = 0; i < c; i++) {
                if (ref->exact != NULL) {
                    int same;
                    if (spelled(d, s->spans[f + i], ref->exact, &same) < 0)
                        return -1;
                    if (!same)
                        continue;
                }
                if (push_pair(s, ref->entity, (int32_t)(f + i)) < 0 || note_key(s, ref->entity) < 0)
                    return -1;
            }
        }
    }
    for (Py_ssize_t k = 0; k < s->nkeys; k++) {
        s->ngroup = 0;
        for (Py_ssize_t i = 0; i < s->npairs; i++)
            if (s->pairs[i].key == s->keys[k] && push_group(s, s->pairs[i].span) < 0)
                return -1;
        if (s->ngroup > 1) { /* the outermost: sorted by (start, -end), distinct, none inside the last kept */
            sort_group(s, 1, 1);
            Py_ssize_t w = 0;
            for (Py_ssize_t i = 0; i < s->ngroup; i++)
                if (!w || s->spans[s->group[i]].e > s->spans[s->group[w - 1]].e)
                    s->group[w++] = s->group[i];
            s->ngroup = w;
        }
        if (set_item_int(mentions, s->keys[k], group_list(s)) < 0)
            return -1;
    }
    return 0;
}

/* Per theme with caution contexts, the first of them (in the set's order) that matches: {theme: pattern}. */
static int
cautions(Doc *d, PyObject *met)
{
    const Plan *p = d->p;
    for (Py_ssize_t t = 0; t < p->nthemes; t++) {
        int32_t k = p->cautions[t];
        if (k < 0)
            continue;
        const ContextSet *set = &p->sets[k];
        for (Py_ssize_t c = set->first; c < set->first + set->count; c++) {
            Py_ssize_t f, n;
            if (!possible(d, &p->contexts[c]))
                continue;
            if (matches_of(d, p->contexts[c].pattern, &f, &n) < 0)
                return -1;
            if (n) {
                if (set_item_int(met, t, PyLong_FromLong(p->contexts[c].pattern)) < 0)
                    return -1;
                break;
            }
        }
    }
    return 0;
}

PyDoc_STRVAR(analyse_doc,
"analyse(plan, hits, norm, term_matches, term_vetoed, term_redundant, scores, mentions) -> {theme: pattern}\n\n"
"``CompiledRules``' steps after the word scan (twins: ``_concepts``, ``_themes``, ``_entities``) on a\n"
"document's phrase hits (``{phrase: [(start, end), ...]}``) and its ``NormalizedText``: extends and\n"
"sorts the concepts' hits in ``hits``; fills ``term_matches`` and ``term_vetoed`` ({term: [match, ...]},\n"
"a match a list of one or two spans), ``term_redundant`` (a set), ``scores`` ({theme: float}) and\n"
"``mentions`` ({entity: [span, ...]}) as the engine's ``Analysis`` keeps them; returns for each\n"
"cautioned theme the pattern of the caution met.");

/* A NormalizedText's fields, as new references into ``out`` (text, original, breaks, shifts, starts, ends). */
static PyObject *norm_names[6]; /* "text", "original", "breaks", "shifts", "starts", "ends", interned */

static int
norm_fields(PyObject *norm, PyObject **out, const char *caller)
{
    for (int i = 0; i < 6; i++)
        if ((out[i] = PyObject_GetAttr(norm, norm_names[i])) == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
                break;
            }
            return -1;
        }
    if (out[5] == NULL || !PyUnicode_Check(out[0]) || !PyUnicode_Check(out[1]) || !PyList_Check(out[2]) || !PyList_Check(out[3])
        || (out[4] != Py_None && !PyList_Check(out[4])) || (out[5] != Py_None && !PyList_Check(out[5]))) {
        PyErr_Format(PyExc_TypeError, "%s: norm must be a NormalizedText", caller);
        return -1;
    }
    return 0;
}

static void
norm_release(PyObject **fields)
{
    for (int i = 0; i < 6; i++)
        Py_CLEAR(fields[i]);
}

static PyObject *
analyse(PyObject *self, PyObject *args)
{
    PyObject *capsule, *hits, *norm, *term_matches, *term_vetoed, *term_redundant, *scores, *mentions;
    if (!PyArg_ParseTuple(args, "OO!OO!O!O!O!O!:analyse", &capsule, &PyDict_Type, &hits, &norm, &PyDict_Type,
                          &term_matches, &PyDict_Type, &term_vetoed, &PySet_Type, &term_redundant, &PyDict_Type,
                          &scores, &PyDict_Type, &mentions))
        return NULL;
    if (!PyCapsule_IsValid(capsule, PLAN_CAPSULE)) {
        PyErr_SetString(PyExc_TypeError, "analyse: plan must be a theme_plan capsule");
        return NULL;
    }
    Plan *p = PyCapsule_GetPointer(capsule, PLAN_CAPSULE);
    PyObject *fields[6] = {NULL}, *met = NULL;
    if (norm_fields(norm, fields, "analyse") < 0)
        goto done;
    if (PyUnicode_GET_LENGTH(fields[0]) >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "analyse: the text is too long");
        goto done;
    }
    Scratch own, *s = &p->scratch;
    if (p->busy) { /* a call inside a call (a finalizer that classified): scratch of its own */
        if (scratch_init(&own, p) < 0) {
            scratch_free(&own);
            goto done;
        }
        s = &own;
    }
    else
        p->busy = 1;
    scratch_begin(s, p);
    Doc d = {p, s, fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]};
    met = PyDict_New();
    if (met == NULL || read_hits(&d, hits) < 0 || concepts(&d, hits) < 0
        || match_terms(&d, term_matches, term_vetoed) < 0 || cautions(&d, met) < 0
        || score(&d, term_redundant, scores) < 0 || entities(&d, mentions) < 0)
        Py_CLEAR(met);
    scratch_end(s);
    if (s == &own)
        scratch_free(&own);
    else
        p->busy = 0;
done:
    norm_release(fields);
    return met;
}

PyDoc_STRVAR(match_fields_doc,
"match_fields(norm, spans, term) -> list[dict]\n\n"
"Each normalised span of ``spans`` (a list of (start, end)) as the dict a ``Match`` validates from:\n"
"``{\"text\", \"start\", \"end\", \"term\"}``, offsets and text in ``norm``'s original (twin:\n"
"``engine._match_fields``).");

static PyObject *key_text, *key_start, *key_end, *key_term;

/* ``spans`` (a list of (start, end) tuples) as Match dicts: a new list, or NULL with an exception set
 * naming ``caller``. It works on a snapshot: allocating may run a finalizer that changes the list. */
static PyObject *
spans_fields(PyObject *const *fields, PyObject *spans, PyObject *term, const char *caller)
{
    if (!PyList_Check(spans)) {
        PyErr_Format(PyExc_TypeError, "%s: spans must be a list", caller);
        return NULL;
    }
    PyObject *snapshot = PySequence_Tuple(spans);
    if (snapshot == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(snapshot);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *span = PyTuple_GET_ITEM(snapshot, i);
        Py_ssize_t s = -1, e = -1, start, end;
        if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != 2 || !PyLong_Check(PyTuple_GET_ITEM(span, 0))
            || !PyLong_Check(PyTuple_GET_ITEM(span, 1))) {
            PyErr_Format(PyExc_TypeError, "%s: a span must be a (start, end) tuple of ints", caller);
            goto fail;
        }
        s = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        e = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        if ((s == -1 || e == -1) && PyErr_Occurred())
            PyErr_Clear(); /* beyond Py_ssize_t: refused below */
        if (s < 0 || e <= s || e > PyUnicode_GET_LENGTH(fields[0])) {
            PyErr_Format(PyExc_ValueError, "%s: span (%zd, %zd) is not in the normalised text", caller, s, e);
            goto fail;
        }
        if (map_span(fields, s, e, &start, &end, caller) < 0)
            goto fail;
        PyObject *text = PyUnicode_Substring(fields[1], start, end);
        PyObject *a = PyLong_FromSsize_t(start), *b = PyLong_FromSsize_t(end), *item = PyDict_New();
        int bad = text == NULL || a == NULL || b == NULL || item == NULL || PyDict_SetItem(item, key_text, text) < 0
                  || PyDict_SetItem(item, key_start, a) < 0 || PyDict_SetItem(item, key_end, b) < 0
                  || PyDict_SetItem(item, key_term, term) < 0;
        Py_XDECREF(text);
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (bad) {
            Py_XDECREF(item);
            goto fail;
        }
        PyList_SET_ITEM(out, i, item);
    }
    Py_DECREF(snapshot);
    return out;
fail:
    Py_XDECREF(out);
    Py_DECREF(snapshot);
    return NULL;
}

static PyObject *
match_fields(PyObject *self, PyObject *args)
{
    PyObject *norm, *spans, *term;
    if (!PyArg_ParseTuple(args, "OO!O:match_fields", &norm, &PyList_Type, &spans, &term))
        return NULL;
    PyObject *fields[6] = {NULL}, *result = NULL;
    if (norm_fields(norm, fields, "match_fields") == 0)
        result = spans_fields(fields, spans, term, "match_fields");
    norm_release(fields);
    return result;
}

PyDoc_STRVAR(entity_fields_doc,
"entity_fields(norm, mentions, entities) -> list[dict]\n\n"
"The ``EntityHit`` dicts of a document's ``mentions`` ({entity: [span, ...]}, each list sorted), ordered\n"
"by (first span, entity); ``entities[e]`` is (id, name, type) (twin: ``CompiledRules._entity_hits``'\n"
"dicts).");

static PyObject *key_id, *key_name, *key_type, *key_mentions;

static int
first_span(PyObject *spans, Py_ssize_t *s, Py_ssize_t *e)
{
    PyObject *first = PyList_Check(spans) && PyList_GET_SIZE(spans) ? PyList_GET_ITEM(spans, 0) : NULL;
    if (first == NULL || !PyTuple_Check(first) || PyTuple_GET_SIZE(first) != 2 || !PyLong_Check(PyTuple_GET_ITEM(first, 0))
        || !PyLong_Check(PyTuple_GET_ITEM(first, 1))) {
        PyErr_SetString(PyExc_TypeError, "entity_fields: mentions must be non-empty lists of spans");
        return -1;
    }
    *s = PyLong_AsSsize_t(PyTuple_GET_ITEM(first, 0));
    *e = PyLong_AsSsize_t(PyTuple_GET_ITEM(first, 1));
    if ((*s == -1 || *e == -1) && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "entity_fields: a span is out of range");
        return -1;
    }
    return 0;
}

static PyObject *
entity_fields(PyObject *self, PyObject *args)
{
    PyObject *norm, *mentions, *entities;
    if (!PyArg_ParseTuple(args, "OO!O!:entity_fields", &norm, &PyDict_Type, &mentions, &PyTuple_Type, &entities))
        return NULL;
    PyObject *fields[6] = {NULL}, *result = NULL, *items = NULL;
    Py_ssize_t n = 0, *order = NULL, (*keys)[3] = NULL;
    /* A snapshot of the items (which owns them) before any Python code runs, sorted below by (first span's
     * start, its end, entity): a handful. */
    items = PyDict_Items(mentions);
    if (items == NULL || norm_fields(norm, fields, "entity_fields") < 0)
        goto done;
    n = PyList_GET_SIZE(items);
    order = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    keys = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(*keys));
    if (items == NULL || order == NULL || keys == NULL) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        PyObject *key = PyTuple_GET_ITEM(item, 0);
        if (!PyLong_CheckExact(key)) {
            PyErr_SetString(PyExc_TypeError, "entity_fields: mentions must be keyed by int entity");
            goto done;
        }
        keys[i][2] = PyLong_AsSsize_t(key);
        if (keys[i][2] == -1 && PyErr_Occurred())
            PyErr_Clear(); /* beyond Py_ssize_t: refused below */
        if (keys[i][2] < 0 || keys[i][2] >= PyTuple_GET_SIZE(entities)) {
            PyErr_SetString(PyExc_ValueError, "entity_fields: an entity beyond the entities given");
            goto done;
        }
        if (first_span(PyTuple_GET_ITEM(item, 1), &keys[i][0], &keys[i][1]) < 0)
            goto done;
        Py_ssize_t j = i;
        while (j > 0) {
            Py_ssize_t *u = keys[order[j - 1]], *v = keys[i];
            if (u[0] < v[0] || (u[0] == v[0] && (u[1] < v[1] || (u[1] == v[1] && u[2] < v[2]))))
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *item = PyList_GET_ITEM(items, order[k]);
        PyObject *meta = PyTuple_GET_ITEM(entities, keys[order[k]][2]);
        if (!PyTuple_Check(meta) || PyTuple_GET_SIZE(meta) != 3) {
            PyErr_SetString(PyExc_TypeError, "entity_fields: an entity must be (id, name, type)");
            Py_DECREF(out);
            goto done;
        }
        PyObject *matches = spans_fields(fields, PyTuple_GET_ITEM(item, 1), Py_None, "entity_fields");
        PyObject *hit = matches == NULL ? NULL : PyDict_New();
        int bad = hit == NULL || PyDict_SetItem(hit, key_id, PyTuple_GET_ITEM(meta, 0)) < 0
                  || PyDict_SetItem(hit, key_name, PyTuple_GET_ITEM(meta, 1)) < 0
                  || PyDict_SetItem(hit, key_type, PyTuple_GET_ITEM(meta, 2)) < 0
                  || PyDict_SetItem(hit, key_mentions, matches) < 0;
        Py_XDECREF(matches);
        if (bad) {
            Py_XDECREF(hit);
            Py_DECREF(out);
            goto done;
        }
        PyList_SET_ITEM(out, k, hit);
    }
    result = out;
done:
    Py_XDECREF(items);
    PyMem_Free(order);
    PyMem_Free(keys);
    norm_release(fields);
    return result;
}

PyDoc_STRVAR(theme_fields_doc,
"theme_fields(norm, term_matches, passed, terms, evidence) -> {theme: [dict, ...]}\n\n"
"Per theme of ``passed`` (a set), the Match dicts ``ThemeHit.matches`` validates from, ordered by their\n"
"original offsets: each term's distinct spans in ``term_matches`` ({term: [match, ...]}) whose theme\n"
"passed, terms in ascending order, ``term`` its source (``terms[t]`` is (theme, source)); then\n"
"``evidence[theme]`` (spans) with term \"model\" (twin: ``CompiledRules._theme_hits``' matches).");

typedef struct {
    Py_ssize_t start, end, seq;
    PyObject *item;
} Placed;

static PyObject *model_term;

/* Append (a new reference to) the dicts of ``spans`` (sorted, distinct) to ``placed`` with their offsets. */
static int
place(PyObject *const *fields, PyObject *spans, PyObject *term, Placed **placed, Py_ssize_t *n, Py_ssize_t *cap)
{
    PyObject *items = spans_fields(fields, spans, term, "theme_fields");
    if (items == NULL)
        return -1;
    Py_ssize_t k = PyList_GET_SIZE(items);
    if (grow((void **)placed, cap, *n, k, sizeof(Placed)) < 0) {
        Py_DECREF(items);
        return -1;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        Placed *p = &(*placed)[*n];
        p->start = PyLong_AsSsize_t(PyDict_GetItem(item, key_start));
        p->end = PyLong_AsSsize_t(PyDict_GetItem(item, key_end));
        p->seq = *n;
        p->item = Py_NewRef(item);
        (*n)++;
    }
    Py_DECREF(items);
    return 0;
}

static int
compare_placed(const void *x, const void *y)
{
    const Placed *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

/* A term's distinct spans over its matches' parts, sorted: a new list. It reads snapshots (owned tuples)
 * of the lists, and takes only (int, int) tuples, so no Python code of the caller's runs meanwhile. */
static PyObject *
term_spans(PyObject *found)
{
    PyObject *unique = NULL, *sorted = NULL, *matches = NULL;
    if (!PyList_Check(found)) {
        PyErr_SetString(PyExc_TypeError, "theme_fields: a term's matches must be a list");
        return NULL;
    }
    if ((matches = PySequence_Tuple(found)) == NULL || (unique = PySet_New(NULL)) == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(matches); i++) {
        PyObject *parts = PyTuple_GET_ITEM(matches, i);
        if (!PyList_Check(parts)) {
            PyErr_SetString(PyExc_TypeError, "theme_fields: a match must be a list of spans");
            goto done;
        }
        PyObject *spans = PySequence_Tuple(parts);
        if (spans == NULL)
            goto done;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(spans); j++) {
            PyObject *span = PyTuple_GET_ITEM(spans, j);
            if (!PyTuple_CheckExact(span) || PyTuple_GET_SIZE(span) != 2 || !PyLong_CheckExact(PyTuple_GET_ITEM(span, 0))
                || !PyLong_CheckExact(PyTuple_GET_ITEM(span, 1))) {
                PyErr_SetString(PyExc_TypeError, "theme_fields: a span must be a (start, end) tuple of ints");
                Py_DECREF(spans);
                goto done;
            }
            if (PySet_Add(unique, span) < 0) {
                Py_DECREF(spans);
                goto done;
            }
        }
        Py_DECREF(spans);
    }
    sorted = PySequence_List(unique);
    if (sorted != NULL && PyList_Sort(sorted) < 0)
        Py_CLEAR(sorted);
done:
    Py_XDECREF(matches);
    Py_XDECREF(unique);
    return sorted;
}

static PyObject *
theme_fields(PyObject *self, PyObject *args)
{
    PyObject *norm, *term_matches, *passed, *terms, *evidence;
    if (!PyArg_ParseTuple(args, "OO!O!O!O!:theme_fields", &norm, &PyDict_Type, &term_matches, &PySet_Type, &passed,
                          &PyTuple_Type, &terms, &PyDict_Type, &evidence))
        return NULL;
    PyObject *fields[6] = {NULL}, *result = NULL, *order = NULL, *themes = NULL;
    Placed *placed = NULL;
    Py_ssize_t nplaced = 0, capplaced = 0;
    if (norm_fields(norm, fields, "theme_fields") < 0)
        goto done;
    /* The terms in ascending order: the order the pack lists them, which a span's several terms keep. */
    order = PyDict_Keys(term_matches);
    if (order == NULL || PyList_Sort(order) < 0)
        goto done;
    themes = PySequence_List(passed);
    result = themes == NULL ? NULL : PyDict_New();
    if (result == NULL)
        goto done;
    for (Py_ssize_t h = 0; h < PyList_GET_SIZE(themes); h++) {
        PyObject *theme = PyList_GET_ITEM(themes, h);
        nplaced = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(order); i++) {
            PyObject *ti = PyList_GET_ITEM(order, i);
            Py_ssize_t t = PyLong_Check(ti) ? PyLong_AsSsize_t(ti) : -1;
            if (t == -1 && PyErr_Occurred())
                PyErr_Clear(); /* beyond Py_ssize_t: refused below */
            if (t < 0 || t >= PyTuple_GET_SIZE(terms) || !PyTuple_Check(PyTuple_GET_ITEM(terms, t))
                || PyTuple_GET_SIZE(PyTuple_GET_ITEM(terms, t)) != 2) {
                PyErr_SetString(PyExc_ValueError, "theme_fields: a term without its (theme, source)");
                goto fail;
            }
            PyObject *meta = PyTuple_GET_ITEM(terms, t);
            int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(meta, 0), theme, Py_EQ);
            if (same < 0)
                goto fail;
            if (!same)
                continue;
            PyObject *found = PyDict_GetItemWithError(term_matches, ti); /* borrowed: held below */
            if (found == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_ValueError, "theme_fields: a term's matches went missing");
                goto fail;
            }
            Py_INCREF(found);
            PyObject *spans = term_spans(found);
            Py_DECREF(found);
            if (spans == NULL)
                goto fail;
            int bad = place(fields, spans, PyTuple_GET_ITEM(meta, 1), &placed, &nplaced, &capplaced);
            Py_DECREF(spans);
            if (bad)
                goto fail;
        }
        PyObject *model = PyDict_GetItemWithError(evidence, theme); /* borrowed: held below */
        if (model == NULL && PyErr_Occurred())
            goto fail;
        Py_XINCREF(model);
        int bad_model = model != NULL && place(fields, model, model_term, &placed, &nplaced, &capplaced) < 0;
        Py_XDECREF(model);
        if (bad_model)
            goto fail;
        if (nplaced > 1)
            qsort(placed, (size_t)nplaced, sizeof(Placed), compare_placed);
        PyObject *list = PyList_New(nplaced);
        if (list == NULL)
            goto fail;
        for (Py_ssize_t i = 0; i < nplaced; i++) {
            PyList_SET_ITEM(list, i, placed[i].item); /* the list takes the reference */
            placed[i].item = NULL;
        }
        nplaced = 0;
        int bad = PyDict_SetItem(result, theme, list);
        Py_DECREF(list);
        if (bad)
            goto fail;
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    for (Py_ssize_t i = 0; i < nplaced; i++)
        Py_XDECREF(placed[i].item);
    PyMem_Free(placed);
    Py_XDECREF(order);
    Py_XDECREF(themes);
    norm_release(fields);
    return result;
}

static PyMethodDef methods[] = {
    {"theme_plan", theme_plan, METH_VARARGS, theme_plan_doc},
    {"analyse", analyse, METH_VARARGS, analyse_doc},
    {"match_fields", match_fields, METH_VARARGS, match_fields_doc},
    {"entity_fields", entity_fields, METH_VARARGS, entity_fields_doc},
    {"theme_fields", theme_fields, METH_VARARGS, theme_fields_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "streams.rules._terms", "The rule engine's steps after the word scan in C.", -1, methods, NULL, NULL,
    NULL, NULL,
};

PyMODINIT_FUNC
PyInit__terms(void)
{
    static const char *names[] = {"text", "original", "breaks", "shifts", "starts", "ends"};
    for (int i = 0; i < 6; i++)
        if ((norm_names[i] = PyUnicode_InternFromString(names[i])) == NULL)
            return NULL;
    key_text = PyUnicode_InternFromString("text");
    key_start = PyUnicode_InternFromString("start");
    key_end = PyUnicode_InternFromString("end");
    key_term = PyUnicode_InternFromString("term");
    model_term = PyUnicode_InternFromString("model");
    key_id = PyUnicode_InternFromString("id");
    key_name = PyUnicode_InternFromString("name");
    key_type = PyUnicode_InternFromString("type");
    key_mentions = PyUnicode_InternFromString("mentions");
    if (model_term == NULL || key_text == NULL || key_start == NULL || key_end == NULL || key_term == NULL || key_id == NULL
        || key_name == NULL || key_type == NULL || key_mentions == NULL)
        return NULL;
    return PyModule_Create(&module);
}
