/* stack_python_layouts.h — where CPython 3.9 to 3.13 keep what a stack walk reads: the
 * thread state's current frame, each frame's code, caller and instruction, each code
 * object's names and line table, and the inside of str and bytes objects. x86_64 and
 * aarch64 (LP64), default builds only (not free-threaded, not Py_TRACE_REFS).
 *
 * The numbers are offsetof() values from each version's own headers (Include/cpython/,
 * Include/internal/pycore_frame.h, pycore_code.h). tests/python/py_layout_check.c
 * compiles against every CPython it finds and fails if any number here differs. Layouts
 * are stable within a minor release, so a table per minor version is enough.
 * Data only: shared by stack_python.c and the layout test. */
#ifndef GP_SHIM_STACK_PYTHON_LAYOUTS_H
#define GP_SHIM_STACK_PYTHON_LAYOUTS_H

#include <stdint.h>

enum gp_py_frames {
    GP_PY_FRAME_OBJECTS, /* 3.9, 3.10: PyFrameObject chain from PyThreadState.frame */
    GP_PY_IFRAME_CFRAME, /* 3.11, 3.12: _PyInterpreterFrame chain from tstate->cframe->current_frame */
    GP_PY_IFRAME_DIRECT, /* 3.13: _PyInterpreterFrame chain from tstate->current_frame */
};

enum gp_py_lines {
    GP_PY_LNOTAB,     /* 3.9: co_lnotab, (address delta, line delta) byte pairs */
    GP_PY_LINETABLE,  /* 3.10: co_linetable, the same pairs, -128 = no line */
    GP_PY_LOCATIONS,  /* 3.11+: co_linetable, the location table of Objects/locations.md */
};

/* _PyInterpreterFrame.owner values (3.11+). CSTACK (3.12+) marks the placeholder frame
 * C code pushes when it enters the interpreter: no Python code of its own. */
#define GP_PY_OWNED_BY_GENERATOR 1
#define GP_PY_OWNED_BY_CSTACK 3

struct gp_py_layout {
    unsigned minor; /* 3.minor */
    enum gp_py_frames frames;
    enum gp_py_lines lines;
    /* PyASCIIObject: a compact ASCII string's bytes follow the struct; a compact non-ASCII
     * string has a cached UTF-8 copy (maybe NULL) and its code points follow
     * PyCompactUnicodeObject. state bits: kind 2-4, compact 5, ascii 6, ready 7 (<= 3.11). */
    uint16_t ascii_size, compact_size, compact_utf8_length, compact_utf8;
    uint8_t has_ready_bit;
    /* Thread state: frame (3.9/3.10), cframe (3.11/3.12) or current_frame (3.13). */
    uint16_t ts_frame;
    uint16_t cframe_current; /* _PyCFrame.current_frame (3.11/3.12) */
    /* Frames: caller, code object, instruction (int f_lasti: 3.9 bytes, 3.10 code units;
     * pointer prev_instr / instr_ptr: 3.11+), owner (char, 3.11+). */
    uint16_t fr_back, fr_code, fr_instr, fr_owner;
    /* PyCodeObject. co_name is co_qualname from 3.11 on ("Class.method"). */
    uint16_t co_filename, co_name, co_firstlineno, co_lines;
    uint16_t co_firsttraceable, co_code; /* int _co_firsttraceable, co_code_adaptive (3.11+) */
};

/* PyObject.ob_type, PyVarObject.ob_size, PyASCIIObject.length / .hash / .state,
 * PyBytesObject.ob_sval: the same in every supported version. */
#define GP_PY_OB_TYPE 8
#define GP_PY_OB_SIZE 16
#define GP_PY_STR_LENGTH 16
#define GP_PY_STR_HASH 24
#define GP_PY_STR_STATE 32
#define GP_PY_BYTES_SVAL 32

static const struct gp_py_layout gp_py_layouts[] = {
    {.minor = 9, .frames = GP_PY_FRAME_OBJECTS, .lines = GP_PY_LNOTAB,
     .ascii_size = 48, .compact_size = 72, .compact_utf8_length = 48, .compact_utf8 = 56,
     .has_ready_bit = 1, .ts_frame = 24, .cframe_current = 0,
     .fr_back = 24, .fr_code = 32, .fr_instr = 104, .fr_owner = 0,
     .co_filename = 104, .co_name = 112, .co_firstlineno = 40, .co_lines = 120,
     .co_firsttraceable = 0, .co_code = 0},
    {.minor = 10, .frames = GP_PY_FRAME_OBJECTS, .lines = GP_PY_LINETABLE,
     .ascii_size = 48, .compact_size = 72, .compact_utf8_length = 48, .compact_utf8 = 56,
     .has_ready_bit = 1, .ts_frame = 24, .cframe_current = 0,
     .fr_back = 24, .fr_code = 32, .fr_instr = 96, .fr_owner = 0,
     .co_filename = 104, .co_name = 112, .co_firstlineno = 40, .co_lines = 120,
     .co_firsttraceable = 0, .co_code = 0},
    {.minor = 11, .frames = GP_PY_IFRAME_CFRAME, .lines = GP_PY_LOCATIONS,
     .ascii_size = 48, .compact_size = 72, .compact_utf8_length = 48, .compact_utf8 = 56,
     .has_ready_bit = 1, .ts_frame = 56, .cframe_current = 8,
     .fr_back = 48, .fr_code = 32, .fr_instr = 56, .fr_owner = 69,
     .co_filename = 112, .co_name = 128, .co_firstlineno = 72, .co_lines = 136,
     .co_firsttraceable = 168, .co_code = 184},
    {.minor = 12, .frames = GP_PY_IFRAME_CFRAME, .lines = GP_PY_LOCATIONS,
     .ascii_size = 40, .compact_size = 56, .compact_utf8_length = 40, .compact_utf8 = 48,
     .has_ready_bit = 0, .ts_frame = 56, .cframe_current = 0,
     .fr_back = 8, .fr_code = 0, .fr_instr = 56, .fr_owner = 70,
     .co_filename = 112, .co_name = 128, .co_firstlineno = 68, .co_lines = 136,
     .co_firsttraceable = 176, .co_code = 192},
    {.minor = 13, .frames = GP_PY_IFRAME_DIRECT, .lines = GP_PY_LOCATIONS,
     .ascii_size = 40, .compact_size = 56, .compact_utf8_length = 40, .compact_utf8 = 48,
     .has_ready_bit = 0, .ts_frame = 72, .cframe_current = 0,
     .fr_back = 8, .fr_code = 0, .fr_instr = 56, .fr_owner = 70,
     .co_filename = 112, .co_name = 128, .co_firstlineno = 68, .co_lines = 136,
     .co_firsttraceable = 184, .co_code = 200},
};

#define GP_PY_NLAYOUTS (sizeof gp_py_layouts / sizeof gp_py_layouts[0])

#endif
