/* py_layout_check.c — fails when shim/stack_python_layouts.h disagrees with the headers of
 * the CPython this is compiled against (CMake builds one per interpreter it finds). The
 * shim cannot include these headers (it must not depend on any one Python), so this is
 * what keeps its numbers honest. Prints each mismatch; exit 1 if any. */
#define Py_BUILD_CORE 1
#include <Python.h>
#if PY_VERSION_HEX < 0x030b0000
#include <frameobject.h>
#else
#include <internal/pycore_frame.h>
#endif
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "stack_python_layouts.h"

static int bad;

static void same(const char *what, size_t header, size_t table)
{
    if (header != table) {
        printf("MISMATCH %s: headers say %zu, stack_python_layouts.h says %zu\n", what, header,
               table);
        bad = 1;
    }
}

/* The state bit field's bits, found by setting one field in an otherwise zero struct. */
static unsigned state_bits(PyASCIIObject *a)
{
    unsigned v;
    memcpy(&v, (const char *)a + offsetof(PyASCIIObject, state), sizeof v);
    memset(a, 0, sizeof *a);
    return v;
}

int main(void)
{
    const struct gp_py_layout *L = NULL;
    for (size_t i = 0; i < GP_PY_NLAYOUTS; i++)
        if (gp_py_layouts[i].minor == PY_MINOR_VERSION)
            L = &gp_py_layouts[i];
    printf("CPython %s headers\n", PY_VERSION);
    if (PY_MAJOR_VERSION != 3 || !L) {
        printf("MISMATCH no layout for this version\n");
        return 1;
    }
    same("PyObject.ob_type", offsetof(PyObject, ob_type), GP_PY_OB_TYPE);
    same("PyVarObject.ob_size", offsetof(PyVarObject, ob_size), GP_PY_OB_SIZE);
    same("PyBytesObject.ob_sval", offsetof(PyBytesObject, ob_sval), GP_PY_BYTES_SVAL);
    same("PyASCIIObject.length", offsetof(PyASCIIObject, length), GP_PY_STR_LENGTH);
    same("PyASCIIObject.hash", offsetof(PyASCIIObject, hash), GP_PY_STR_HASH);
    same("PyASCIIObject.state", offsetof(PyASCIIObject, state), GP_PY_STR_STATE);
    same("sizeof(PyASCIIObject)", sizeof(PyASCIIObject), L->ascii_size);
    same("sizeof(PyCompactUnicodeObject)", sizeof(PyCompactUnicodeObject), L->compact_size);
    same("PyCompactUnicodeObject.utf8_length", offsetof(PyCompactUnicodeObject, utf8_length),
         L->compact_utf8_length);
    same("PyCompactUnicodeObject.utf8", offsetof(PyCompactUnicodeObject, utf8), L->compact_utf8);
    PyASCIIObject a;
    memset(&a, 0, sizeof a);
    a.state.kind = 7;
    same("state.kind bits", state_bits(&a), 7u << 2);
    a.state.compact = 1;
    same("state.compact bit", state_bits(&a), 1u << 5);
    a.state.ascii = 1;
    same("state.ascii bit", state_bits(&a), 1u << 6);
#if PY_VERSION_HEX < 0x030c0000
    a.state.ready = 1;
    same("state.ready bit", state_bits(&a), 1u << 7);
    same("has ready bit", 1, L->has_ready_bit);
#else
    same("has ready bit", 0, L->has_ready_bit);
#endif
    same("PyCodeObject.co_filename", offsetof(PyCodeObject, co_filename), L->co_filename);
    same("PyCodeObject.co_firstlineno", offsetof(PyCodeObject, co_firstlineno), L->co_firstlineno);
#if PY_VERSION_HEX < 0x030a0000
    same("frames", GP_PY_FRAME_OBJECTS, L->frames);
    same("lines", GP_PY_LNOTAB, L->lines);
    same("PyCodeObject.co_name", offsetof(PyCodeObject, co_name), L->co_name);
    same("PyCodeObject.co_lnotab", offsetof(PyCodeObject, co_lnotab), L->co_lines);
#elif PY_VERSION_HEX < 0x030b0000
    same("frames", GP_PY_FRAME_OBJECTS, L->frames);
    same("lines", GP_PY_LINETABLE, L->lines);
    same("PyCodeObject.co_name", offsetof(PyCodeObject, co_name), L->co_name);
    same("PyCodeObject.co_linetable", offsetof(PyCodeObject, co_linetable), L->co_lines);
#else
    same("lines", GP_PY_LOCATIONS, L->lines);
    same("PyCodeObject.co_qualname", offsetof(PyCodeObject, co_qualname), L->co_name);
    same("PyCodeObject.co_linetable", offsetof(PyCodeObject, co_linetable), L->co_lines);
    same("PyCodeObject._co_firsttraceable", offsetof(PyCodeObject, _co_firsttraceable),
         L->co_firsttraceable);
    same("PyCodeObject.co_code_adaptive", offsetof(PyCodeObject, co_code_adaptive), L->co_code);
    same("_PyInterpreterFrame.previous", offsetof(_PyInterpreterFrame, previous), L->fr_back);
    same("_PyInterpreterFrame.owner", offsetof(_PyInterpreterFrame, owner), L->fr_owner);
    same("sizeof owner", sizeof(((_PyInterpreterFrame *)0)->owner), 1);
    same("FRAME_OWNED_BY_GENERATOR", FRAME_OWNED_BY_GENERATOR, GP_PY_OWNED_BY_GENERATOR);
#endif
#if PY_VERSION_HEX >= 0x030c0000
    same("FRAME_OWNED_BY_CSTACK", FRAME_OWNED_BY_CSTACK, GP_PY_OWNED_BY_CSTACK);
#endif
#if PY_VERSION_HEX < 0x030b0000
    same("PyThreadState.frame", offsetof(PyThreadState, frame), L->ts_frame);
    same("PyFrameObject.f_back", offsetof(PyFrameObject, f_back), L->fr_back);
    same("PyFrameObject.f_code", offsetof(PyFrameObject, f_code), L->fr_code);
    same("PyFrameObject.f_lasti", offsetof(PyFrameObject, f_lasti), L->fr_instr);
    same("sizeof f_lasti", sizeof(((PyFrameObject *)0)->f_lasti), 4);
#elif PY_VERSION_HEX < 0x030d0000
    same("frames", GP_PY_IFRAME_CFRAME, L->frames);
    same("PyThreadState.cframe", offsetof(PyThreadState, cframe), L->ts_frame);
    same("_PyCFrame.current_frame", offsetof(_PyCFrame, current_frame), L->cframe_current);
    same("_PyInterpreterFrame.f_code", offsetof(_PyInterpreterFrame, f_code), L->fr_code);
    same("_PyInterpreterFrame.prev_instr", offsetof(_PyInterpreterFrame, prev_instr), L->fr_instr);
#else
    same("frames", GP_PY_IFRAME_DIRECT, L->frames);
    same("PyThreadState.current_frame", offsetof(PyThreadState, current_frame), L->ts_frame);
    same("_PyInterpreterFrame.f_executable", offsetof(_PyInterpreterFrame, f_executable), L->fr_code);
    same("_PyInterpreterFrame.instr_ptr", offsetof(_PyInterpreterFrame, instr_ptr), L->fr_instr);
#endif
#if PY_VERSION_HEX >= 0x030b0000
    same("sizeof(_Py_CODEUNIT)", sizeof(_Py_CODEUNIT), 2);
#endif
    puts(bad ? "layout differs" : "layout matches");
    return bad;
}
