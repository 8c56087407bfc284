// The few pieces of numpy's C API the bindings need that pybind11 exposes only in its internal
// `pybind11::detail` namespace: reading an ndarray's dtype and flags without creating Python
// objects (this runs several times per kernel call, where a call is a few microseconds), and
// numpy.asarray / a dtype conversion that keep numpy's Python error (py::array_t::ensure clears
// it, so an out-of-memory conversion would surface as pybind11's "Internal error").
//
// `detail` is not pybind11's stable API: it is used here and nowhere else, and pyproject.toml
// pins pybind11 below its next major version. If an upgrade breaks the build, this file is the
// one to change.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <type_traits>

namespace miniflow_bindings::numpy_shim {

namespace py = pybind11;

// Facts about an ndarray, read straight from its C struct.
struct ArrayFacts {
    int type_num;    // NPY_FLOAT, NPY_DOUBLE, ...
    char byteorder;  // '<', '>', '=' or '|'
    int flags;       // NPY_ARRAY_ALIGNED, NPY_ARRAY_C_CONTIGUOUS, NPY_ARRAY_WRITEABLE, ...
    int ndim;
    const py::ssize_t* dims;
    const py::ssize_t* strides;  // in bytes
    const char* data;
};

inline bool is_ndarray(py::handle obj) {
    return py::detail::npy_api::get().PyArray_Check_(obj.ptr());
}

// Only for an object is_ndarray accepted.
inline ArrayFacts facts(py::handle array) {
    const auto* proxy = py::detail::array_proxy(array.ptr());
    const auto* descr = py::detail::array_descriptor_proxy(proxy->descr);
    return {descr->type_num,   descr->byteorder, proxy->flags, proxy->nd,
            proxy->dimensions, proxy->strides,   proxy->data};
}

// numpy's type number for T (float or double).
template <typename T>
constexpr int type_num() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    return std::is_same_v<T, float> ? py::detail::npy_api::NPY_FLOAT_
                                    : py::detail::npy_api::NPY_DOUBLE_;
}

constexpr int aligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;
constexpr int c_contiguous = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_;
constexpr int writeable = py::detail::npy_api::NPY_ARRAY_WRITEABLE_;

// numpy.asarray(obj), or (with `dtype`) a C-contiguous copy cast to it as numpy's
// astype(dtype, order="C") would make; nullptr with numpy's Python error set on failure.
inline PyObject* from_any(py::handle obj, const py::dtype* dtype = nullptr) {
    // PyArray_FromAny steals the reference to the dtype
    PyObject* descr = dtype != nullptr ? py::dtype(*dtype).release().ptr() : nullptr;
    const int flags = py::detail::npy_api::NPY_ARRAY_ENSUREARRAY_ |
                      (dtype != nullptr ? py::array::forcecast | py::array::c_style : 0);
    return py::detail::npy_api::get().PyArray_FromAny_(obj.ptr(), descr, 0, 0, flags, nullptr);
}

}  // namespace miniflow_bindings::numpy_shim
