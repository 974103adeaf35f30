/*
 * vntrace.node.merkle._accel: optional C accelerator for the Merkle hot paths.
 *
 * Keccak-256 (Ethereum's: pad10*1 with domain byte 0x01, not NIST SHA3's 0x06) and
 * the OpenZeppelin StandardMerkleTree operations built on it, over contiguous byte
 * blobs so that a million leaves cost no Python objects per hash. The heavy loops run
 * with the GIL released, so a tree can be built on several cores with plain threads.
 * The pure-Python engine (safe-pysha3) stays the reference; tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const uint64_t RC[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};
#define ROTL64(x, y) (((x) << (y)) | ((x) >> (64 - (y))))

/* Keccak-f[1600], one round unrolled over 25 lanes held in locals (generated). */
static void keccakf(uint64_t st[25]) {
    uint64_t a00 = st[0], a01 = st[1], a02 = st[2], a03 = st[3], a04 = st[4], a05 = st[5], a06 = st[6], a07 = st[7], a08 = st[8], a09 = st[9], a10 = st[10], a11 = st[11], a12 = st[12], a13 = st[13], a14 = st[14], a15 = st[15], a16 = st[16], a17 = st[17], a18 = st[18], a19 = st[19], a20 = st[20], a21 = st[21], a22 = st[22], a23 = st[23], a24 = st[24];
    uint64_t b00, b01, b02, b03, b04, b05, b06, b07, b08, b09, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
    uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
    for (int r = 0; r < 24; r++) {
        c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20;
        c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21;
        c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22;
        c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23;
        c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24;
        d0 = c4 ^ ROTL64(c1, 1);
        d1 = c0 ^ ROTL64(c2, 1);
        d2 = c1 ^ ROTL64(c3, 1);
        d3 = c2 ^ ROTL64(c4, 1);
        d4 = c3 ^ ROTL64(c0, 1);
        b00 = (a00 ^ d0);
        b16 = ROTL64((a05 ^ d0), 36);
        b07 = ROTL64((a10 ^ d0), 3);
        b23 = ROTL64((a15 ^ d0), 41);
        b14 = ROTL64((a20 ^ d0), 18);
        b10 = ROTL64((a01 ^ d1), 1);
        b01 = ROTL64((a06 ^ d1), 44);
        b17 = ROTL64((a11 ^ d1), 10);
        b08 = ROTL64((a16 ^ d1), 45);
        b24 = ROTL64((a21 ^ d1), 2);
        b20 = ROTL64((a02 ^ d2), 62);
        b11 = ROTL64((a07 ^ d2), 6);
        b02 = ROTL64((a12 ^ d2), 43);
        b18 = ROTL64((a17 ^ d2), 15);
        b09 = ROTL64((a22 ^ d2), 61);
        b05 = ROTL64((a03 ^ d3), 28);
        b21 = ROTL64((a08 ^ d3), 55);
        b12 = ROTL64((a13 ^ d3), 25);
        b03 = ROTL64((a18 ^ d3), 21);
        b19 = ROTL64((a23 ^ d3), 56);
        b15 = ROTL64((a04 ^ d4), 27);
        b06 = ROTL64((a09 ^ d4), 20);
        b22 = ROTL64((a14 ^ d4), 39);
        b13 = ROTL64((a19 ^ d4), 8);
        b04 = ROTL64((a24 ^ d4), 14);
        a00 = b00 ^ ((~b01) & b02);
        a05 = b05 ^ ((~b06) & b07);
        a10 = b10 ^ ((~b11) & b12);
        a15 = b15 ^ ((~b16) & b17);
        a20 = b20 ^ ((~b21) & b22);
        a01 = b01 ^ ((~b02) & b03);
        a06 = b06 ^ ((~b07) & b08);
        a11 = b11 ^ ((~b12) & b13);
        a16 = b16 ^ ((~b17) & b18);
        a21 = b21 ^ ((~b22) & b23);
        a02 = b02 ^ ((~b03) & b04);
        a07 = b07 ^ ((~b08) & b09);
        a12 = b12 ^ ((~b13) & b14);
        a17 = b17 ^ ((~b18) & b19);
        a22 = b22 ^ ((~b23) & b24);
        a03 = b03 ^ ((~b04) & b00);
        a08 = b08 ^ ((~b09) & b05);
        a13 = b13 ^ ((~b14) & b10);
        a18 = b18 ^ ((~b19) & b15);
        a23 = b23 ^ ((~b24) & b20);
        a04 = b04 ^ ((~b00) & b01);
        a09 = b09 ^ ((~b05) & b06);
        a14 = b14 ^ ((~b10) & b11);
        a19 = b19 ^ ((~b15) & b16);
        a24 = b24 ^ ((~b20) & b21);
        a00 ^= RC[r];
    }
    st[0] = a00;
    st[1] = a01;
    st[2] = a02;
    st[3] = a03;
    st[4] = a04;
    st[5] = a05;
    st[6] = a06;
    st[7] = a07;
    st[8] = a08;
    st[9] = a09;
    st[10] = a10;
    st[11] = a11;
    st[12] = a12;
    st[13] = a13;
    st[14] = a14;
    st[15] = a15;
    st[16] = a16;
    st[17] = a17;
    st[18] = a18;
    st[19] = a19;
    st[20] = a20;
    st[21] = a21;
    st[22] = a22;
    st[23] = a23;
    st[24] = a24;
}

static inline uint64_t load64(const uint8_t *p) {
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) |
           ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

static inline void store64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#define RATE 136

static void keccak256(const uint8_t *in, size_t len, uint8_t out[32]) {
    uint64_t st[25];
    memset(st, 0, sizeof st);
    while (len >= RATE) {
        for (int i = 0; i < RATE / 8; i++) st[i] ^= load64(in + 8 * i);
        keccakf(st);
        in += RATE;
        len -= RATE;
    }
    uint8_t block[RATE];
    memset(block, 0, RATE);
    memcpy(block, in, len);
    block[len] ^= 0x01;
    block[RATE - 1] ^= 0x80;
    for (int i = 0; i < RATE / 8; i++) st[i] ^= load64(block + 8 * i);
    keccakf(st);
    for (int i = 0; i < 4; i++) store64(out + 8 * i, st[i]);
}

/* keccak256 of exactly 32 or 64 bytes: one block, padding folded into the lanes. */
static inline void keccak_small(const uint8_t *in, int lanes, uint8_t out[32]) {
    uint64_t st[25];
    memset(st, 0, sizeof st);
    for (int i = 0; i < lanes; i++) st[i] = load64(in + 8 * i);
    st[lanes] ^= 0x01ULL;
    st[RATE / 8 - 1] ^= 0x8000000000000000ULL;
    keccakf(st);
    for (int i = 0; i < 4; i++) store64(out + 8 * i, st[i]);
}

static inline void hash_pair(const uint8_t *a, const uint8_t *b, uint8_t out[32]) {
    uint8_t buf[64];
    if (memcmp(a, b, 32) <= 0) {
        memcpy(buf, a, 32);
        memcpy(buf + 32, b, 32);
    } else {
        memcpy(buf, b, 32);
        memcpy(buf + 32, a, 32);
    }
    keccak_small(buf, 8, out);
}

static PyObject *py_keccak256(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint8_t out[32];
    keccak256(view.buf, (size_t)view.len, out);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

/* pair_leaves(blob of n*64 bytes) -> n*32 bytes of keccak256(keccak256(a || b)). */
static PyObject *py_pair_leaves(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % 64) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "pair blob length must be a multiple of 64");
        return NULL;
    }
    Py_ssize_t n = view.len / 64;
    PyObject *res = PyBytes_FromStringAndSize(NULL, n * 32);
    if (!res) {
        PyBuffer_Release(&view);
        return NULL;
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(res);
    const uint8_t *in = view.buf;
    Py_BEGIN_ALLOW_THREADS
    uint8_t inner[32];
    for (Py_ssize_t i = 0; i < n; i++) {
        keccak_small(in + 64 * i, 8, inner);
        keccak_small(inner, 4, out + 32 * i);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return res;
}

/* build_tree(leaves blob of n*32 bytes, in leaf order) -> (2n-1)*32 bytes, OZ layout. */
static PyObject *py_build_tree(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len == 0 || view.len % 32) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "leaf blob must hold one or more 32-byte leaves");
        return NULL;
    }
    Py_ssize_t n = view.len / 32, size = 2 * n - 1;
    PyObject *res = PyBytes_FromStringAndSize(NULL, size * 32);
    if (!res) {
        PyBuffer_Release(&view);
        return NULL;
    }
    uint8_t *tree = (uint8_t *)PyBytes_AS_STRING(res);
    const uint8_t *leaves = view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n; k++) memcpy(tree + 32 * (size - 1 - k), leaves + 32 * k, 32);
    for (Py_ssize_t i = size - 1 - n; i >= 0; i--)
        hash_pair(tree + 32 * (2 * i + 1), tree + 32 * (2 * i + 2), tree + 32 * i);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return res;
}

/* process_proof(leaf: bytes, proof: list of 32-byte bytes) -> root bytes. */
static PyObject *py_process_proof(PyObject *self, PyObject *args) {
    PyObject *leaf, *proof;
    if (!PyArg_ParseTuple(args, "SO", &leaf, &proof)) return NULL;
    if (PyBytes_GET_SIZE(leaf) != 32) {
        PyErr_SetString(PyExc_ValueError, "leaf must be 32 bytes");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(proof, "proof must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    uint8_t h[32];
    memcpy(h, PyBytes_AS_STRING(leaf), 32);
    for (Py_ssize_t i = 0; i < m; i++) {
        PyObject *s = items[i];
        if (!PyBytes_Check(s) || PyBytes_GET_SIZE(s) != 32) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "proof nodes must be 32-byte bytes");
            return NULL;
        }
        hash_pair(h, (const uint8_t *)PyBytes_AS_STRING(s), h);
    }
    Py_DECREF(seq);
    return PyBytes_FromStringAndSize((const char *)h, 32);
}

static PyMethodDef methods[] = {
    {"keccak256", py_keccak256, METH_O, "Keccak-256 of a bytes-like object."},
    {"pair_leaves", py_pair_leaves, METH_O, "Leaf hashes of concatenated 64-byte pairs."},
    {"build_tree", py_build_tree, METH_O, "OZ node array over concatenated leaf hashes."},
    {"process_proof", py_process_proof, METH_VARARGS, "Root implied by a leaf and its proof."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_accel",
                                    "C accelerator for the Merkle hot paths.", -1, methods};

PyMODINIT_FUNC PyInit__accel(void) { return PyModule_Create(&module); }
