/* Timestamps of every message, in C: the twins of ``schemas.base.to_utc`` and ``schemas.base.iso_utc``.
 *
 * pydantic calls both once per timestamp of every record it reads or writes (an item has two, a
 * classified record three, an alert four); as Python functions they were ~3% of a worker's time.
 * Same results as the Python twins for every input: values whose tzinfo is not the UTC singleton
 * take the same method calls (``replace``/``astimezone``) the twins make. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

static PyObject *utc;  /* datetime.timezone.utc */

/* A datetime whose tzinfo is ``utc``: the value itself, or ``value.astimezone(utc)``. */
static PyObject *
as_utc(PyObject *value)
{
    if (PyDateTime_DATE_GET_TZINFO(value) == utc) {
        Py_INCREF(value);
        return value;
    }
    return PyObject_CallMethod(value, "astimezone", "O", utc);
}

static PyObject *
to_utc(PyObject *self, PyObject *value)
{
    if (!PyDateTime_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "to_utc expects a datetime");
        return NULL;
    }
    if (PyDateTime_DATE_GET_TZINFO(value) == Py_None) {
        PyObject *kwargs = Py_BuildValue("{s:O}", "tzinfo", utc), *empty = PyTuple_New(0), *replace = NULL,
                 *result = NULL;
        if (kwargs != NULL && empty != NULL && (replace = PyObject_GetAttrString(value, "replace")) != NULL)
            result = PyObject_Call(replace, empty, kwargs);
        Py_XDECREF(replace);
        Py_XDECREF(empty);
        Py_XDECREF(kwargs);
        return result;
    }
    PyObject *result = as_utc(value);
    if (result == NULL && PyErr_ExceptionMatches(PyExc_OverflowError)) {
        /* 0001-01-01T00:00+01:00: no UTC time exists; a ValueError makes pydantic name the field */
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "timestamp out of range once converted to UTC");
    }
    return result;
}

static PyObject *
iso_utc(PyObject *self, PyObject *value)
{
    if (!PyDateTime_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "iso_utc expects a datetime");
        return NULL;
    }
    PyObject *u = as_utc(value);
    if (u == NULL)
        return NULL;
    if (!PyDateTime_Check(u)) {  /* a tzinfo subclass may answer astimezone with anything */
        Py_DECREF(u);
        PyErr_SetString(PyExc_TypeError, "astimezone did not return a datetime");
        return NULL;
    }
    char text[40];
    int n = snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", PyDateTime_GET_YEAR(u),
                     PyDateTime_GET_MONTH(u), PyDateTime_GET_DAY(u), PyDateTime_DATE_GET_HOUR(u),
                     PyDateTime_DATE_GET_MINUTE(u), PyDateTime_DATE_GET_SECOND(u),
                     PyDateTime_DATE_GET_MICROSECOND(u));
    Py_DECREF(u);
    return PyUnicode_FromStringAndSize(text, n);
}

static PyMethodDef methods[] = {
    {"to_utc", to_utc, METH_O,
     "to_utc($module, value, /)\n--\n\nThe datetime in UTC; a naive one is taken as UTC already."},
    {"iso_utc", iso_utc, METH_O,
     "iso_utc($module, value, /)\n--\n\nThe datetime as 2026-11-28T17:35:25.123456Z (in UTC)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "schemas._utc", "Timestamps of every message, in C.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__utc(void)
{
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    utc = PyDateTime_TimeZone_UTC;
    Py_INCREF(utc);
    return PyModule_Create(&module);
}
