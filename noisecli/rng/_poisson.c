/* Poisson noise for 8-bit images: the table lookup of noisecli.rng.poisson.poisson_u8.
 *
 * Built as the optional extension noisecli.rng._poisson (numpy twin: poisson._u8_lookup).
 * Integer operations only, so the result does not depend on compiler flags or CPU.
 *
 * upper: uint32 [256][257], guide: uint16 [256][256] (noisecli.rng.poisson.u8_tables):
 * for a value of level x with word w,
 *     c = guide[x][w >> 24];  while (w > upper[x][c]) c++;
 * gives the class c in 0..256; out = min(c, 255) and c == 256 counts as clipped.
 * upper[x][256] == 0xFFFFFFFF, so the search always stops.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>
#include <stdint.h>

#define NOISECLI_POISSON_CLASSES 257

/* out[i] for i < n from words[i] and levels x[i]; returns the number of clipped values.
 * out may alias x (each x[i] is read before out[i] is written). */
int64_t noisecli_poisson_u8(const uint32_t *upper, const uint16_t *guide,
                            const uint32_t *words, const uint8_t *x, uint8_t *out, size_t n)
{
    int64_t clipped = 0;
    for (size_t i = 0; i < n; i++) {
        const uint32_t w = words[i];
        const size_t level = x[i];
        const uint32_t *up = upper + level * NOISECLI_POISSON_CLASSES;
        uint32_t c = guide[(level << 8) | (w >> 24)];
        while (w > up[c])
            c++;
        out[i] = (uint8_t)(c - (c >> 8));
        clipped += c >> 8;
    }
    return clipped;
}

/* ---- Python module noisecli.rng._poisson: lookup(upper, guide, words, x, out) -> clipped ----
 * Buffers (C-contiguous): upper uint32 (256, 257), guide uint16 (256, 256), words uint32 (n),
 * x uint8 (n), out uint8 (n; may be x). The GIL is released during the loop. */
static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable,
                      const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    if (view->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: items of %zd bytes expected", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *py_lookup(PyObject *self, PyObject *args)
{
    PyObject *o_upper, *o_guide, *o_words, *o_x, *o_out;
    Py_buffer upper, guide, words, x, out;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOO", &o_upper, &o_guide, &o_words, &o_x, &o_out))
        return NULL;
    if (get_buffer(o_upper, &upper, 4, 0, "upper") < 0)
        return NULL;
    if (get_buffer(o_guide, &guide, 2, 0, "guide") < 0)
        goto fail_upper;
    if (get_buffer(o_words, &words, 4, 0, "words") < 0)
        goto fail_guide;
    if (get_buffer(o_x, &x, 1, 0, "x") < 0)
        goto fail_words;
    if (get_buffer(o_out, &out, 1, 1, "out") < 0)
        goto fail_x;
    size_t n = (size_t)x.len;
    if (upper.len != 256 * NOISECLI_POISSON_CLASSES * 4 || guide.len != 256 * 256 * 2 ||
        (size_t)(words.len / 4) != n || (size_t)out.len != n) {
        PyErr_SetString(PyExc_ValueError, "lookup: table or buffer sizes do not match");
        goto fail_out;
    }
    int64_t clipped;
    Py_BEGIN_ALLOW_THREADS
    clipped = noisecli_poisson_u8((const uint32_t *)upper.buf, (const uint16_t *)guide.buf,
                                  (const uint32_t *)words.buf, (const uint8_t *)x.buf,
                                  (uint8_t *)out.buf, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&x);
    PyBuffer_Release(&words);
    PyBuffer_Release(&guide);
    PyBuffer_Release(&upper);
    return PyLong_FromLongLong((long long)clipped);
fail_out:
    PyBuffer_Release(&out);
fail_x:
    PyBuffer_Release(&x);
fail_words:
    PyBuffer_Release(&words);
fail_guide:
    PyBuffer_Release(&guide);
fail_upper:
    PyBuffer_Release(&upper);
    return NULL;
}

static PyMethodDef methods[] = {
    {"lookup", py_lookup, METH_VARARGS, "Poisson classes of uint8 levels by table lookup."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_poisson", NULL, -1, methods};

PyMODINIT_FUNC PyInit__poisson(void) { return PyModule_Create(&module); }
